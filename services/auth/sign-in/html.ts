// HTML that escapes by default: every value put into an `html` template is escaped (escape-html),
// unless it is itself an `html` template (or a list of them). No page builds markup by
// concatenating strings from a request.
import escapeHtml from 'escape-html'

export class Html {
  constructor (readonly text: string) {}
  toString (): string { return this.text }
}

type Value = Html | string | number | undefined | null | false | Html[]

function render (value: Value): string {
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === undefined || value === null || value === false) return ''
  return escapeHtml(String(value))
}

/** The tagged template: `html\`<p>${untrusted}</p>\`` escapes `untrusted`. */
export function html (strings: TemplateStringsArray, ...values: Value[]): Html {
  let text = strings[0]!
  values.forEach((value, index) => { text += render(value) + strings[index + 1]! })
  return new Html(text)
}
