import { Router, type Response } from 'express';
import type { PublishedCaStore } from '../ca/published-ca-store';

/**
 * Public CA material for servers: what to trust (CA keys, CA chain) and what to refuse (KRL, CRL).
 * Read from what the worker published in Redis; the bot never holds a CA private key.
 */
export function caRoutes(published: PublishedCaStore): Router {
  const router = Router();
  const send = async (res: Response, pick: (p: NonNullable<Awaited<ReturnType<PublishedCaStore['read']>>>) => { type: string; body: string | Buffer }) => {
    const p = await published.read();
    if (!p) {
      res.status(503).type('application/json').send(JSON.stringify({ error: 'CA_NOT_PUBLISHED', message: 'No CA worker has published the CA yet.' }));
      return;
    }
    const { type, body } = pick(p);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Access-Bot-CA-Version', String(p.version));
    res.setHeader('Last-Modified', new Date(p.publishedAt).toUTCString());
    res.status(200).type(type).send(body);
  };
  router.get('/ssh_user_ca.pub', (_req, res, next) => send(res, (p) => ({ type: 'text/plain; charset=utf-8', body: p.sshUserCaKeys })).catch(next));
  router.get('/x509_ca.pem', (_req, res, next) => send(res, (p) => ({ type: 'application/x-pem-file', body: p.x509CaBundle })).catch(next));
  router.get('/revoked.krl', (_req, res, next) => send(res, (p) => ({ type: 'application/octet-stream', body: p.krl })).catch(next));
  router.get('/x509.crl', (_req, res, next) => send(res, (p) => ({ type: 'application/x-pem-file', body: p.crl })).catch(next));
  return router;
}
