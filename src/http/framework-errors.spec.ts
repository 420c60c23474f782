import type { Socket } from 'node:net';
import { clientErrorFor, createClientErrorHandler } from './framework-errors';

const parserError = (code: string, reason?: string) =>
  Object.assign(new Error('Parse Error'), { code, ...(reason ? { reason } : {}) });

describe('clientErrorFor', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 'HEADERS_TOO_LARGE'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 'REQUEST_TIMEOUT'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 'PAYLOAD_TOO_LARGE'],
    ['HPE_INVALID_METHOD', 'BAD_REQUEST'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 'BAD_REQUEST'],
  ])('answers %s with %s', (code, expected) => {
    expect(clientErrorFor(parserError(code)).code).toBe(expected);
  });

  it('passes llhttp’s reason as details, and nothing else of the error', () => {
    const error = clientErrorFor(parserError('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char'));
    expect([error.message, error.details]).toEqual([
      'The request is not valid HTTP/1.1.',
      'Invalid header value char',
    ]);
    expect(clientErrorFor(parserError('HPE_INVALID_METHOD')).details).toBeNull();
  });
});

describe('the client error handler', () => {
  const logged: unknown[] = [];
  const answer = createClientErrorHandler({ info: (line: unknown) => void logged.push(line) } as never);

  function fakeSocket(state: Partial<Record<'destroyed' | 'writableEnded' | 'writable', boolean>> = {}) {
    const calls: string[] = [];
    let written = '';
    const socket = {
      destroyed: false,
      writableEnded: false,
      writable: true,
      remoteAddress: '127.0.0.1',
      ...state,
      end: (data: string) => {
        written = data;
        calls.push('end');
      },
      destroy: () => calls.push('destroy'),
      setTimeout: () => calls.push('setTimeout'),
    };
    return { socket: socket as unknown as Socket, calls, written: () => written };
  }

  it('writes the envelope with Connection: close, half-closes, and logs the request id', () => {
    const { socket, calls, written } = fakeSocket();
    answer(parserError('HPE_INVALID_METHOD', 'Invalid method encountered'), socket);
    expect(calls).toEqual(['end', 'setTimeout']);
    const [head, body] = written().split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head).toMatch(/\r\nConnection: close$/);
    expect(head).toContain('\r\nX-Content-Type-Options: nosniff');
    expect(head).toContain(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`);
    const requestId = /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/.exec(head)?.[1];
    expect(JSON.parse(body)).toEqual({
      code: 'BAD_REQUEST',
      message: 'The request is not valid HTTP/1.1.',
      details: 'Invalid method encountered',
      validationErrors: null,
      timestamp: expect.any(String),
    });
    expect(logged.at(-1)).toEqual({
      requestId,
      status: 400,
      code: 'BAD_REQUEST',
      parserError: 'HPE_INVALID_METHOD',
      ip: '127.0.0.1',
    });
  });

  it.each([
    ['a reset connection', parserError('ECONNRESET'), {}],
    ['a destroyed socket', parserError('HPE_INVALID_METHOD'), { destroyed: true }],
    ['a socket already answered', parserError('HPE_INVALID_METHOD'), { writableEnded: true }],
  ])('leaves %s alone', (_name, error, state) => {
    const { socket, calls } = fakeSocket(state);
    answer(error, socket);
    expect(calls).toEqual([]);
  });

  it('cuts a socket that cannot be written to', () => {
    const { socket, calls } = fakeSocket({ writable: false });
    answer(parserError('HPE_INVALID_METHOD'), socket);
    expect(calls).toEqual(['destroy']);
  });
});
