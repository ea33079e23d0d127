/**
 * The emulator's pages: the consent page ("Authorize app" / "Cancel", a choice of user, the
 * app's name and what it asks for), and the few pages around it (an error, the PIN of an
 * out-of-band sign-in, a cancelled sign-in). Server-rendered, no script, every value escaped.
 */
import type { XEmulatorUser } from './fixtures';

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { width: min(28rem, 100% - 2rem); margin: 1rem 0; padding: 2rem; border: 1px solid #8884; border-radius: 1rem; overflow-wrap: anywhere; }
  @media (max-width: 30rem) { main { padding: 1.25rem; } }
  .brand { margin: 0 0 1rem; font-weight: 700; letter-spacing: .02em; }
  h1 { font-size: 1.4rem; line-height: 1.3; margin: 0 0 1.25rem; }
  h2 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
  fieldset { border: 0; padding: 0; margin: 0; }
  legend { font-weight: 600; margin-bottom: .5rem; }
  label { display: flex; gap: .6rem; align-items: center; padding: .5rem .6rem; border-radius: .5rem; cursor: pointer; }
  label:hover { background: #8881; }
  label img { width: 2rem; height: 2rem; border-radius: 50%; }
  .handle { opacity: .7; }
  ul { padding-left: 1.2rem; margin: 0; }
  li { margin: .25rem 0; }
  code { font-size: .9em; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; font: inherit; font-weight: 600; padding: .7rem 1rem; border-radius: 999px; border: 1px solid #8886; cursor: pointer; background: transparent; color: inherit; }
  button.primary { background: CanvasText; color: Canvas; border-color: CanvasText; }
  button:focus-visible { outline: 3px solid #1d9bf0; outline-offset: 2px; }
  .note { margin-top: 1.5rem; font-size: .85rem; opacity: .75; }
  .pin { font-size: 2rem; font-family: ui-monospace, monospace; letter-spacing: .2em; }
  a { color: #1d9bf0; }
  .back { margin-top: 1.5rem; }
  .profile { display: flex; gap: 1rem; align-items: center; }
  .profile img { width: 4.5rem; height: 4.5rem; border-radius: 50%; flex: none; }
  .profile h1 { margin: 0; }
`;

/** Where every page but the consent page links back to: the emulator redirects to the app that sent the user here last. */
export const WAY_BACK_PATH = '/i/back';

/**
 * A whole page around `content`; `title` is plain text. Every page but the consent page (whose
 * way back is its Cancel button) links back to the app, through {@link WAY_BACK_PATH}.
 */
export function layout(title: string, content: string, wayBack = true): string {
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHTML(title)} · X emulator</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n` +
    '<p class="brand">X emulator</p>\n' +
    `${content}\n` +
    (wayBack ? `<p class="back"><a href="${WAY_BACK_PATH}">← Back to the app</a></p>\n` : '') +
    '<p class="note">This is the local X emulator of passport-x/testing; no real X account is used.</p>\n' +
    '</main>\n</body>\n</html>\n'
  );
}

/** What the consent page shows and posts. */
export interface ConsentPageOptions {
  /** The app's name. */
  appName: string;
  /** What the app will be able to do: one line each (an OAuth 2.0 scope, or an OAuth 1.0a permission). */
  permissions: ReadonlyArray<{ scope?: string; description: string }>;
  /** The users to choose from. */
  users: ReadonlyArray<Readonly<XEmulatorUser>>;
  /** The user preselected (default: the first). */
  selectedUserId?: string | undefined;
  /** Where the form posts (a path of the emulator). */
  action: string;
  /** Hidden fields that identify the authorization request. */
  hidden: Readonly<Record<string, string>>;
  /** Where the user goes back to, shown as its origin; omitted for out-of-band sign-ins. */
  returnTo?: string | undefined;
}

function origin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? undefined : parsed.origin;
  } catch {
    return undefined;
  }
}

/**
 * The consent page. Its form posts `user_id`, `action` (`authorize` or `cancel`) and the hidden
 * fields; "Authorize app" comes first, so Enter authorizes.
 */
export function renderConsentPage(options: ConsentPageOptions): string {
  const selected = options.users.some((u) => u.id === options.selectedUserId) ? options.selectedUserId : options.users[0]?.id;
  const hidden = Object.entries(options.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHTML(name)}" value="${escapeHTML(value)}">`)
    .join('\n');
  const users = options.users
    .map((user) => {
      const checked = user.id === selected ? ' checked' : '';
      const picture = user.profileImageURL ? `<img src="${escapeHTML(user.profileImageURL)}" alt="">` : '';
      return (
        `<label><input type="radio" name="user_id" value="${escapeHTML(user.id)}"${checked}>${picture}` +
        `<span>${escapeHTML(user.name)} <span class="handle">@${escapeHTML(user.username)}</span></span></label>`
      );
    })
    .join('\n');
  const permissions = options.permissions
    .map((p) => `<li>${p.scope ? `<code>${escapeHTML(p.scope)}</code>: ` : ''}${escapeHTML(p.description)}</li>`)
    .join('\n');
  const back = options.returnTo ? origin(options.returnTo) : undefined;
  const content =
    `<h1>Authorize ${escapeHTML(options.appName)} to access your account?</h1>\n` +
    `<form method="post" action="${escapeHTML(options.action)}">\n${hidden}\n` +
    `<fieldset>\n<legend>Sign in as</legend>\n${users}\n</fieldset>\n` +
    `<section aria-labelledby="permissions">\n<h2 id="permissions">${escapeHTML(options.appName)} will be able to</h2>\n<ul>\n${permissions}\n</ul>\n</section>\n` +
    (back ? `<p>Afterwards you go back to <strong>${escapeHTML(back)}</strong>.</p>\n` : '') +
    '<div class="actions">\n' +
    '<button type="submit" name="action" value="authorize" class="primary">Authorize app</button>\n' +
    '<button type="submit" name="action" value="cancel">Cancel</button>\n' +
    '</div>\n</form>';
  return layout(`Authorize ${options.appName}`, content, false);
}

/** A page for a request the emulator cannot send back to the app: what went wrong, and what to check. */
export function renderErrorPage(title: string, explanation: string): string {
  return layout(title, `<h1>${escapeHTML(title)}</h1>\n<p>${escapeHTML(explanation)}</p>`);
}

/** The PIN page of an out-of-band (`oauth_callback=oob`) sign-in: the user types the PIN into the app. */
export function renderPinPage(appName: string, pin: string): string {
  return layout(
    'Your PIN',
    `<h1>You authorized ${escapeHTML(appName)}</h1>\n<p>Enter this PIN in ${escapeHTML(appName)} to finish signing in:</p>\n<p class="pin"><strong>${escapeHTML(pin)}</strong></p>`,
  );
}

/** The page of an out-of-band sign-in the user cancelled. */
export function renderCancelledPage(appName: string): string {
  return layout('Sign-in cancelled', `<h1>You did not authorize ${escapeHTML(appName)}</h1>\n<p>No access was given. You can close this page.</p>`);
}
