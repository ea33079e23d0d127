// nock replies that check the OAuth 1.0a signature of each request as X would (RFC 5849,
// recomputed from the request's own nonce and timestamp by lib/testing/oauth1-verifier.ts).
import type { ReplyFnContext } from 'nock';
import { verifyOAuth1Request, type OAuth1Verification } from '../../lib/testing/oauth1-verifier';

/** The consumer and token secrets X knows. */
export interface KnownSecrets {
  consumers: Record<string, string>;
  tokens?: Record<string, string>;
}

/** What each signed request carried, for assertions. */
export interface SignedRequestRecord {
  verification: OAuth1Verification;
  oauth: Record<string, string>;
  body: string;
  url: string;
}

type Reply = [number, string | Record<string, unknown>, Record<string, string>?];

/**
 * A nock reply function: answers `reply` when the request's signature is valid, X's
 * `401 {"errors":[{"code":32,...}]}` when not, and records what it saw in `log`.
 */
export function signedReply(origin: string, secrets: KnownSecrets, reply: Reply, log: SignedRequestRecord[] = []) {
  return function (this: ReplyFnContext, uri: string, body: unknown): Reply {
    const bodyText = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    const headers = this.req.headers as Record<string, string | undefined>;
    const url = `${origin}${uri}`;
    const verification = verifyOAuth1Request(
      { method: this.req.method, url, authorization: headers.authorization, body: bodyText, contentType: headers['content-type'] },
      { consumerSecret: (k) => secrets.consumers[k], tokenSecret: (t) => secrets.tokens?.[t] },
    );
    log.push({ verification, oauth: verification.oauth, body: bodyText, url });
    if (!verification.ok) return [401, { errors: [{ code: 32, message: 'Could not authenticate you.' }] }];
    return reply;
  };
}
