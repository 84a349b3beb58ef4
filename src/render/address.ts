/** `address:port` for people: IPv6 addresses in brackets, no address (every interface) as `*`. */
export function addressPort(address: string | undefined, port: string | number): string {
  const a = !address ? '*' : address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return `${a}:${port}`;
}
