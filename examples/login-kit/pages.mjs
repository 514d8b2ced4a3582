// The login demos' HTML: one page with a login form, one with who you are, a visit counter
// and a logout button, one for an error; and the rule a login name must keep. Each demo
// serves these over its own framework.

/**
 * How many other sessions "Log out my other sessions" ended, from the `ended` query
 * parameter of the page it redirects to; `undefined` when absent or not a count.
 *
 * @param {unknown} query The parsed query string.
 * @returns {number | undefined}
 */
export function endedFromQuery(query) {
  const ended = /** @type {{ ended?: unknown } | undefined} */ (query)?.ended;
  return typeof ended === 'string' && /^\d{1,6}$/.test(ended) ? Number(ended) : undefined;
}

/** The longest name a visitor may log in with. */
export const MAX_NAME_LENGTH = 40;

/**
 * The name a login form sent (its `name` field, trimmed), or `undefined` when it is not
 * 1 to {@link MAX_NAME_LENGTH} characters long.
 *
 * @param {unknown} body The parsed `application/x-www-form-urlencoded` body.
 * @returns {string | undefined}
 */
export function nameFromForm(body) {
  const name = String(/** @type {{ name?: unknown } | undefined} */ (body)?.name ?? '').trim();
  return name.length === 0 || name.length > MAX_NAME_LENGTH ? undefined : name;
}

/**
 * The pages of a demo whose title and heading is `title`.
 *
 * @param {string} title
 */
export function loginPages(title) {
  /** @param {string} body */
  const page = (body) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; }
  input, button { font: inherit; padding: .3rem .6rem; }
  .error { color: #b00020; }
  small { color: #555; word-break: break-all; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;

  return {
    /** The login form, for a visitor who is not logged in. */
    login: () => page(loginForm()),
    /** The login form again, saying which names it takes: the answer to a refused name. */
    nameRefused: () => page(loginForm(`Enter a name of 1 to ${MAX_NAME_LENGTH} characters.`)),
    /**
     * Who is logged in, the page views so far, a logout button, a button that logs the
     * user out everywhere else, and the session's file. `ended`, after that button, says
     * how many other sessions it ended.
     *
     * @param {string} user
     * @param {number} visits
     * @param {string} file
     * @param {number} [ended]
     */
    welcome: (user, visits, file, ended) =>
      page(`<p id="status">Logged in as <strong id="user">${escapeHtml(user)}</strong>.</p>
${
  ended === undefined
    ? ''
    : `<p id="ended" role="status">Logged out of <strong>${ended}</strong> other ${ended === 1 ? 'session' : 'sessions'}.</p>
`
}<p>Page views in this session: <strong id="visits">${visits}</strong>. Reload to count up.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<form method="post" action="/logout-others"><button type="submit">Log out my other sessions</button></form>
<p><small>Your session is the file ${escapeHtml(file)}.</small></p>`),
    /**
     * A page that says only `message`, as an error.
     *
     * @param {string} message
     */
    error: (message) => page(`<p class="error" role="alert">${escapeHtml(message)}</p>`),
  };
}

/** @param {string} [error] */
function loginForm(error) {
  return `<form method="post" action="/login">
  <p id="status">You are not logged in.</p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <label>Your name <input name="name" required maxlength="${MAX_NAME_LENGTH}" autofocus></label>
  <button type="submit">Log in</button>
</form>`;
}

/**
 * `text` with every character that could open markup or end an attribute as a character
 * reference.
 *
 * @param {string} text
 */
export function escapeHtml(text) {
  return text.replace(
    /[&<>"']/g,
    (character) => `&#${/** @type {number} */ (character.codePointAt(0))};`,
  );
}
