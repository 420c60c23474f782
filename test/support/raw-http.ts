import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header's values joined with `, `. */
  headers: Record<string, string>;
  body: string;
  /** The parsed JSON body, or `undefined` when the body is not JSON. */
  json: unknown;
  /** Whether the server closed the connection after the response. */
  closed: boolean;
}

/** The port a server listens on (it must listen already). */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Sends `bytes` as they are (malformed requests included) on a new connection and reads one
 * response: its head, then `Content-Length` bytes of body (none for `HEAD`). When the response
 * says `Connection: close`, waits for the server to close the connection; otherwise closes it.
 */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  options: { head?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let response: Omit<RawResponse, 'closed'> | null = null;
    let closed = false;
    let settled = false;

    const finish = () => {
      if (settled || !response) return;
      const closes = /\bclose\b/i.test(response.headers.connection ?? '');
      if (closes && !closed) return; // the close event comes
      settled = true;
      if (!closed) socket.destroy();
      resolve({ ...response, closed });
    };

    const parse = () => {
      if (response) return;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      const length = options.head ? 0 : Number(headers['content-length'] ?? 0);
      if (received.length < end + 4 + length) return;
      const body = received.subarray(end + 4, end + 4 + length).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      response = { status: Number(statusLine.split(' ')[1]), headers, body, json };
      finish();
    };

    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      parse();
    });
    socket.on('error', (error) => {
      // A reset after the whole response was read still counts as a close.
      if (response) return;
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    socket.on('close', () => {
      closed = true;
      parse();
      if (response) return finish();
      if (!settled) {
        settled = true;
        reject(
          new Error(
            `The connection closed before a whole response: ${JSON.stringify(received.toString('latin1'))}`,
          ),
        );
      }
    });
    socket.write(bytes);
  });
}
