/**
 * The one place SQL and libpq text is quoted. Ferry's SQL reaches psql as one argv word
 * (never through the shell), so these quote for Postgres alone.
 */

/** A reason a value cannot be put in SQL at all. */
export class SqlQuoteError extends Error {
  readonly code = 'sql-unquotable';
  readonly hint = 'A name or value with a NUL byte cannot be sent to Postgres; rename it.';
  constructor(what: string) {
    super(`cannot quote ${what} for SQL: it holds a NUL byte`);
    this.name = 'SqlQuoteError';
  }
}

function noNul(s: string, what: string): string {
  if (s.includes('\0')) throw new SqlQuoteError(what);
  return s;
}

/**
 * A string constant: `'it''s'`. Written as an escape string (`E'...'`) when it holds a
 * backslash, so that it means the same whatever `standard_conforming_strings` is.
 */
export function sqlLiteral(s: string): string {
  noNul(s, 'a string');
  if (!s.includes('\\')) return `'${s.replace(/'/g, "''")}'`;
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** An identifier, always quoted: `"My ""table"""`. Case is kept as written. */
export function sqlIdent(s: string): string {
  return `"${noNul(s, 'an identifier').replace(/"/g, '""')}"`;
}

/** `schema.table`, each part quoted. */
export const sqlQualified = (schema: string, name: string): string => `${sqlIdent(schema)}.${sqlIdent(name)}`;

/** A value in a libpq connection string (`key='value'`): backslashes and quotes escaped. */
export function conninfoValue(v: string): string {
  return `'${noNul(v, 'a connection value').replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
