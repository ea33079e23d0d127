// InProcessTokenLock (lib/lock.ts): the default XTokenLock of one process.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_TIMEOUT_MS } from '../lib/http';
import { InProcessTokenLock } from '../lib/lock';

describe('InProcessTokenLock', function () {
  it('runs one holder of a key at a time, in arrival order', async function () {
    const lock = new InProcessTokenLock();
    const order: number[] = [];
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        lock.withLock('k', 1000, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(2);
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).to.equal(1);
    expect(order).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lock.size).to.equal(0);
  });

  it('runs holders of different keys at the same time', async function () {
    const lock = new InProcessTokenLock();
    let inside = 0;
    let most = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((key) =>
        lock.withLock(key, 1000, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(most).to.equal(3);
  });

  it('returns what fn returns, rethrows what fn throws, and lets the next holder in either way', async function () {
    const lock = new InProcessTokenLock();
    const boom = new Error('boom');
    const first = lock.withLock('k', 1000, async () => {
      throw boom;
    });
    const second = lock.withLock('k', 1000, async () => 'second');
    let caught: unknown;
    await first.catch((err: unknown) => (caught = err));
    expect(caught).to.equal(boom);
    expect(await second).to.equal('second');
    expect(lock.size).to.equal(0);
  });

  it('refuses a bad key, TTL or fn with errors naming them', async function () {
    const lock = new InProcessTokenLock();
    const tries: Array<[unknown, unknown, unknown, RegExp, ErrorConstructor]> = [
      ['', 1000, async () => 1, /key/, TypeError],
      [undefined, 1000, async () => 1, /key/, TypeError],
      ['k', -5, async () => 1, /ttlMs/, RangeError],
      ['k', Infinity, async () => 1, /ttlMs/, RangeError],
      ['k', 1000, null, /fn/, TypeError],
    ];
    for (const [key, ttl, fn, message, type] of tries) {
      let caught: unknown;
      await lock.withLock(key as string, ttl as number, fn as () => Promise<number>).catch((err: unknown) => (caught = err));
      expect(caught, String(message)).to.be.instanceOf(type).with.property('message').that.matches(message);
    }
    expect(lock.size).to.equal(0);
  });

  it('refuses a TTL past 2^31-1 ms (Node\'s longest timer) with a RangeError naming ttlMs, running nothing', async function () {
    const lock = new InProcessTokenLock();
    let ran = false;
    const run = async (): Promise<void> => {
      ran = true;
    };
    const err = await lock.withLock('k', MAX_TIMEOUT_MS + 1, run).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RangeError).with.property('message').that.matches(/ttlMs must be a whole number of milliseconds from 1 to 2147483647/);
    expect(ran).to.equal(false);
    await lock.withLock('k', MAX_TIMEOUT_MS, run);
    expect(ran, 'the longest TTL a timer can wait is taken').to.equal(true);
  });
});
