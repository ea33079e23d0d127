// The app of `npm run bench`, one process per candidate (forked by signin.bench.ts): Express 5,
// express-session with its MemoryStore, passport, and one candidate strategy on two routes:
//   GET /<id>/start     passport.authenticate(<name>)                      -> 302 to the canned X
//   GET /<id>/callback  passport.authenticate(<name>, { failureRedirect }) -> 200 "ok"
// Each candidate has its own process so that its heap, garbage collector and JIT state are its
// own: a candidate's garbage is never collected on another's CPU time, and its "heap after" is
// its alone. The driver reads this process's CPU (process.cpuUsage) over IPC before and after
// each round.
//   fork('app.ts', [candidateId, xBaseURL], { execArgv: ['--import', 'tsx', '--expose-gc'] })
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { CANDIDATES } from './candidates';

const [id, baseURL] = process.argv.slice(2) as [string, string];
const candidate = CANDIDATES.find((c) => c.id === id);
if (!candidate || !baseURL) throw new Error(`usage: app.ts <candidate id> <canned X base URL> (got ${process.argv.slice(2).join(' ')})`);

const strategy = candidate.create(baseURL, (profile, done) => done(null, { id: profile.id }));
passport.use(strategy as passport.Strategy);
passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
passport.deserializeUser((userId: string, done) => done(null, { id: userId }));

const app = express();
app.disable('x-powered-by');
const sessions = new session.MemoryStore() as session.MemoryStore & { sessions: Record<string, string> };
app.use(session({ secret: 'bench-session-secret-0123456789abcdef', resave: false, saveUninitialized: false, store: sessions }));
app.use(passport.initialize());
app.use(passport.session());
app.get(`/${id}/start`, passport.authenticate(strategy.name));
app.get(`/${id}/callback`, passport.authenticate(strategy.name, { failureRedirect: '/failed' }), (_req, res) => {
  res.send('ok');
});
app.get('/failed', (req, res) => {
  const messages = (req.session as unknown as { messages?: string[] }).messages;
  res.status(401).send(`failed ${messages?.join('; ') ?? ''}`);
});

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'cpu') {
    process.send?.({ cpu: process.cpuUsage(), driverConnections });
  } else if (message.cmd === 'heap') {
    // Twice: the first pass may leave objects a finaliser revives.
    gc?.();
    gc?.();
    const stored = Object.values(sessions.sessions);
    process.send?.({ heapUsed: process.memoryUsage().heapUsed, gc: !!gc, sessions: stored.length, sessionBytes: stored.reduce((n, json) => n + json.length, 0) });
  }
});
process.on('disconnect', () => process.exit(0));

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.send?.({ port: address.port });
});
// The driver keeps its connections for the whole run: never closed for idleness (0 turns the time-out
// off). With a time-out, an app stopped (SIGSTOP) for longer than it closes, on resuming, the
// connections the driver is just then sending on, and the driver gets ECONNRESET.
server.keepAliveTimeout = 0;
// Connections the driver opened: it keeps them alive, so a candidate whose answers close them shows here.
let driverConnections = 0;
server.on('connection', () => {
  driverConnections += 1;
});
