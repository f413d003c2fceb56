// The pages people see at the auth service: the login form, the sign-out confirmation, and the
// error page shown instead of a redirect when the client or its redirect URI cannot be trusted.
// Forms work without JavaScript; no inline script or style (the CSP forbids both).
import { html, type Html } from './html.js'

export const STYLESHEET_PATH = '/sign-in/style.css'

export const STYLESHEET = `body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .3rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #99a;border-radius:4px}
button{margin-top:1.5rem;width:100%;padding:.6rem;font-size:1rem;background:#2456c8;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#a10000;background:#fdeaea;padding:.6rem;border-radius:4px}.code{color:#667;font-size:.85rem}.app{color:#445}
`

function layout (title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.toString()
}

export interface LoginPage {
  clientName: string
  csrfToken: string
  username?: string
  /** A failure, in plain words, shown above the form. */
  error?: string
}

export function loginPage (page: LoginPage): string {
  return layout('Sign in', html`<h1>Sign in</h1>
<p class="app">to continue to <strong>${page.clientName}</strong></p>
${page.error !== undefined && html`<p class="error" id="error" role="alert">${page.error}</p>`}
<form method="post" action="/sign-in">
<input type="hidden" name="csrf_token" value="${page.csrfToken}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus value="${page.username ?? ''}"${page.error !== undefined ? html` aria-describedby="error"` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`)
}

export function errorPage (title: string, message: string, code: string): string {
  return layout(title, html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
<p class="code">Error code: <code>${code}</code></p>`)
}

export function signOutPage (csrfToken: string, fields: Record<string, string | undefined>, clientName: string | undefined): string {
  const hidden = Object.entries(fields).filter(([, value]) => value !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)
  return layout('Sign out', html`<h1>Sign out</h1>
<p>${clientName !== undefined ? html`<strong>${clientName}</strong> asks you to sign out.` : 'Do you want to sign out?'} You will be signed out of every app that uses this sign-in.</p>
<form method="post" action="/end-session">
<input type="hidden" name="csrf_token" value="${csrfToken}">
${hidden}<button type="submit" name="confirm" value="yes">Sign out</button>
</form>`)
}

export function signedOutPage (): string {
  return layout('Signed out', html`<h1>Signed out</h1>
<p>You are signed out. You can close this window.</p>`)
}
