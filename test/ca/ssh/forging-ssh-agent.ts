import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { SshWireReader, SshWireWriter } from '../../../src/ca/ssh/ssh-wire';

/**
 * An ssh-agent (draft-miller-ssh-agent) that holds one certificate and no private key at all.
 * It lists the certificate as its only identity and answers every sign request with the same
 * Ed25519 signature, R = the identity point's encoding and S = 0: what an attacker who only read
 * a certificate for a degenerate key can offer.
 */

const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;

/** R = encoding of the identity point (y = 1), S = 0. */
export const FORGED_ED25519_SIGNATURE = Buffer.concat([Buffer.from([1]), Buffer.alloc(31), Buffer.alloc(32)]);

export class ForgingSshAgent {
  /** How many sign requests the agent answered (with the forged signature). */
  signRequests = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
  ) {}

  static async start(dir: string, certificateBlob: Buffer, name = 'agent.sock'): Promise<ForgingSshAgent> {
    const socketPath = join(dir, name);
    await rm(socketPath, { force: true });
    let agent: ForgingSshAgent | undefined;
    const server = createServer((socket) => agent?.serve(socket, certificateBlob));
    agent = new ForgingSshAgent(socketPath, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return agent;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private serve(socket: Socket, certificateBlob: Buffer): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // the client hangs up when it is done
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) return;
        const message = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        socket.write(frame(this.answer(message, certificateBlob)));
      }
    });
  }

  private answer(message: Buffer, certificateBlob: Buffer): Buffer {
    const type = message[0];
    if (type === SSH_AGENTC_REQUEST_IDENTITIES) {
      return new SshWireWriter(certificateBlob.length + 64)
        .uint8(SSH_AGENT_IDENTITIES_ANSWER)
        .uint32(1)
        .string(certificateBlob)
        .string('certificate only, no private key')
        .toBuffer();
    }
    if (type === SSH_AGENTC_SIGN_REQUEST) {
      const reader = new SshWireReader(message.subarray(1));
      const keyBlob = reader.string('key blob');
      if (!keyBlob.equals(certificateBlob)) return Buffer.from([SSH_AGENT_FAILURE]);
      this.signRequests++;
      const signature = new SshWireWriter(96).string('ssh-ed25519').string(FORGED_ED25519_SIGNATURE).toBuffer();
      return new SshWireWriter(signature.length + 8).uint8(SSH_AGENT_SIGN_RESPONSE).string(signature).toBuffer();
    }
    return Buffer.from([SSH_AGENT_FAILURE]); // extensions (session-bind@openssh.com), add/remove, lock
  }
}

function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}
