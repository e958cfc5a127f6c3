/** Served as /hub/control.css: the page's Content-Security-Policy allows no inline style. */
export const CONTROL_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2rem 3rem; color: #1f2937; }
header { border-bottom: 1px solid #e5e7eb; margin-bottom: 1rem; }
h1 { font-size: 1.4rem; margin: 1rem 0 .25rem; } h2 { font-size: 1.1rem; margin-top: 1.75rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #f3f4f6; vertical-align: top; }
th { font-weight: 600; color: #4b5563; }
.actions { white-space: nowrap; } .actions form { display: inline-flex; gap: .25rem; margin-left: .5rem; }
input[type=number] { width: 7rem; } label { margin-right: .75rem; }
button { cursor: pointer; } button[disabled] { cursor: not-allowed; opacity: .5; }
.muted { color: #6b7280; } .error { color: #b91c1c; } .badge { background: #6b7280; color: #fff; padding: .1rem .4rem; border-radius: .25rem; }
#status { display: block; min-height: 1.4rem; margin: .5rem 0; font-weight: 600; }
#status.error { color: #b91c1c; } #status.ok { color: #047857; }
.result { margin-top: .5rem; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
code { font-size: 12px; }
`;
