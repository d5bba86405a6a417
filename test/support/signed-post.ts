/**
 * POSTs a body to a receiver the way Dodo does: Standard Webhooks headers, signed by the
 * `standardwebhooks` library (the signing oracle), over real HTTP. Resolves with the status.
 */
import { request, type Agent } from 'node:http';
import { Webhook } from 'standardwebhooks';

export function postSignedWebhook(url: string, options: { readonly webhookId: string; readonly body: string; readonly secret: string; readonly agent?: Agent }): Promise<number> {
  const timestamp = new Date();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      ...(options.agent ? { agent: options.agent } : {}),
      headers: {
        'content-type': 'application/json',
        'webhook-id': options.webhookId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': new Webhook(options.secret).sign(options.webhookId, timestamp, options.body),
      },
    });
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
