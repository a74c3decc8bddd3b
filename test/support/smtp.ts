import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message with quoted-printable soft line breaks joined. */
  data: string;
}

/** A real SMTP server on loopback that keeps every message it receives. */
/**
 * A real SMTP server on loopback that keeps what it receives. With `auth`, it requires those
 * credentials (over plain SMTP, as on a private relay) and records every login it accepts.
 */
export async function startSmtpServer(auth?: {
  user: string;
  pass: string;
}): Promise<{ port: number; mails: ReceivedMail[]; logins: string[]; close: () => Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: !auth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(credentials, _session, callback) {
      if (!auth || credentials.username !== auth.user || credentials.password !== auth.pass) return callback(new Error('invalid credentials'));
      logins.push(credentials.username);
      callback(null, { user: credentials.username });
    },
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: data.replace(/=\r\n/g, ''),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
