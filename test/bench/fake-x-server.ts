// A minimal stand-in for X's sign-in endpoints (OAuth 1.0a and 2.0), for the benchmark only: it answers at once,
// checks nothing, and counts the TCP connections clients open. Run in its own process so its
// CPU is not counted against the client being measured. Prints its port, then serves until killed.
import { createServer } from 'node:http';

let connections = 0;
const user = JSON.stringify({ id: 1, id_str: '1', screen_name: 'bench', name: 'Bench', profile_image_url_https: 'https://pbs.twimg.com/b.jpg' });
let n = 0;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/stats') return res.end(JSON.stringify({ connections }));
    if (path === '/oauth/request_token') {
      n += 1;
      res.setHeader('content-type', 'application/x-www-form-urlencoded');
      return res.end(`oauth_token=rt${n}&oauth_token_secret=rs${n}&oauth_callback_confirmed=true`);
    }
    if (path === '/oauth/access_token') {
      res.setHeader('content-type', 'application/x-www-form-urlencoded');
      return res.end('oauth_token=1-at&oauth_token_secret=as&user_id=1&screen_name=bench');
    }
    if (path === '/2/oauth2/token') {
      res.setHeader('content-type', 'application/json');
      return res.end('{"token_type":"bearer","expires_in":7200,"access_token":"bench-access","scope":"tweet.read users.read","refresh_token":"bench-refresh"}');
    }
    if (path === '/2/users/me') {
      res.setHeader('content-type', 'application/json');
      return res.end('{"data":{"id":"1","name":"Bench","username":"bench","profile_image_url":"https://pbs.twimg.com/b.jpg"}}');
    }
    if (path === '/1.1/account/verify_credentials.json') {
      res.setHeader('content-type', 'application/json');
      return res.end(user);
    }
    res.statusCode = 404;
    res.end('{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}');
  });
});
server.on('connection', () => {
  connections += 1;
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`${address.port}\n`);
});
