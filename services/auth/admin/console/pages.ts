// The console's pages, server-rendered through the escaping `html` template (sign-in/html.ts).
// Forms work without script; every change is a POST with the session's CSRF token; a destructive
// one first shows a confirmation page.
import { html, type Html } from '../../sign-in/html.js'
import { CSS_PATH, JS_PATH } from './assets.js'
import type { ConsoleSession } from './sessions.js'

const SECTIONS = [['users', 'Users'], ['clients', 'Clients'], ['keys', 'Keys'], ['revocations', 'Revocations'], ['audit', 'Audit']] as const

export function page (title: string, body: Html, session?: ConsoleSession, section?: string): string {
  const flash = session?.flash
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fastify-ssot admin</title><link rel="stylesheet" href="${CSS_PATH}"><script src="${JS_PATH}" defer></script></head>
<body><header><strong>fastify-ssot admin</strong>
${session && SECTIONS.map(([path, name]) => html`<a href="/console/${path}"${path === section ? html` class="current"` : ''}>${name}</a>`)}
${session && html`<form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${session.csrf}"><span class="muted">${session.username}</span> <button type="submit">Sign out</button></form>`}
</header><main>
${flash && html`<p class="flash ${flash.kind}" role="status">${flash.text}${flash.secret !== undefined && html` <code class="secret">${flash.secret}</code> (shown once: store it now)`}</p>`}
${body}
</main></body></html>`.text
}

/** A POST button for console action `op` on `target`; `fields` go along. */
export function actionButton (session: ConsoleSession, op: string, label: string, fields: Record<string, string>, danger = false): Html {
  return html`<form method="post" action="/console/action/${op}"><input type="hidden" name="_csrf" value="${session.csrf}">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit"${danger ? html` class="danger"` : ''}>${label}</button></form>`
}

/** The question's first sentence, as the answer: "Disable walt and end every session?" → "disable walt and end every session" (names keep their case). */
const buttonText = (question: string) => {
  const ask = question.split('?')[0]!
  return ask.charAt(0).toLowerCase() + ask.slice(1)
}

export function confirmPage (session: ConsoleSession, op: string, question: string, fields: Record<string, string>, returnTo: string): string {
  return page('Confirm', html`<h1>Confirm</h1><p>${question}</p>
<form method="post" action="/console/action/${op}"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="confirmed" value="yes">
${Object.entries({ ...fields, returnTo }).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit" class="danger">Yes, ${buttonText(question)}</button> <a href="${returnTo}">Cancel</a></form>`, session)
}

export function messagePage (title: string, message: string, link?: { href: string, text: string }, refresh?: string): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
${refresh !== undefined && html`<meta http-equiv="refresh" content="0;url=${refresh}">`}
<title>${title}</title><link rel="stylesheet" href="${CSS_PATH}"></head>
<body><main><h1>${title}</h1><p>${message}</p>${link && html`<p><a href="${link.href}">${link.text}</a></p>`}</main></body></html>`.text
}

export interface Row { [name: string]: unknown }

/** A table of `rows`: each column a title and how a cell shows. */
export function table<R> (rows: R[], columns: Array<[string, (row: R) => Html | string]>): Html {
  return html`<table><thead><tr>${columns.map(([title]) => html`<th>${title}</th>`)}</tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="${columns.length}" class="muted">Nothing here.</td></tr>` : rows.map((row) => html`<tr>${columns.map(([, cell]) => html`<td>${cell(row)}</td>`)}</tr>`)}</tbody></table>`
}

/** Search form and the link to the next page. */
export function searchForm (path: string, fields: Array<[string, string, string | undefined]>): Html {
  return html`<form method="get" action="${path}">${fields.map(([name, label, value], index) => html`<label>${label} <input type="search" name="${name}" value="${value ?? ''}"${index === 0 ? html` data-autofocus` : ''}></label> `)}<button type="submit">Search</button></form>`
}

export function nextLink (path: string, query: Record<string, string | undefined>, next: string | number | undefined): Html {
  if (next === undefined) return html``
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''))
  params.set(typeof next === 'number' ? 'before' : 'after', String(next))
  return html`<nav class="pages"><a href="${path}?${params.toString()}">Next page →</a></nav>`
}
