/** Compose services of the backup suites' stacks, on the test bed's images. */

/** Postgres as the `shop` role and database, its password from `.env`'s POSTGRES_PASSWORD. */
export const PG_SERVICE = `  db:
    image: ferry-tb-postgres:1
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
    volumes: [db-data:/var/lib/postgresql/data]
    restart: unless-stopped
    mem_limit: 512m
`;

/** A service that only holds the `uploads` volume. */
export const FILES_SERVICE = `  files:
    image: ferry-tb-app:1
    entrypoint: [sleep, infinity]
    volumes: [uploads:/srv/uploads]
    restart: unless-stopped
    mem_limit: 64m
`;
