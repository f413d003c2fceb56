// The console's stylesheet and script: files of their own (the CSP allows no inline script or style).
export const CSS_PATH = '/console/assets/console.css'
export const JS_PATH = '/console/assets/console.js'

export const CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#cfd8ff;text-decoration:none}header a.current{color:#fff;font-weight:600}
header form{margin-left:auto}main{padding:1rem 1.2rem;max-width:72rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.6rem 0}
th,td{border-bottom:1px solid #dde1e8;padding:.35rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#eef0f4}td form{display:inline}
button{background:#2952cc;color:#fff;border:0;border-radius:4px;padding:.3rem .7rem;cursor:pointer;font-size:.85rem}
button.danger{background:#b3261e}header button{background:#444b5c}
input[type=text],input[type=password],input[type=search]{padding:.3rem;border:1px solid #b8bfcc;border-radius:4px}
fieldset{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:.8rem 0;padding:.6rem 1rem}
fieldset label{margin-right:.6rem}.flash{padding:.5rem .8rem;border-radius:4px;margin:.5rem 0}
.ok{background:#e3f4e6;border:1px solid #7cc287}.error{background:#fbe5e3;border:1px solid #e0837a}
code.secret{font-size:1rem;background:#fff;padding:.2rem .4rem;border:1px dashed #888}
.muted{color:#667}nav.pages{margin:.4rem 0}
`

// Puts the cursor in the first search or text field of the page.
export const JS = `document.addEventListener('DOMContentLoaded', function () {
  var field = document.querySelector('[data-autofocus]')
  if (field) field.focus()
})
`
