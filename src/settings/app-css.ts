/** The settings page's stylesheet, served as /settings/api-keys/app.css (no inline style: `style-src 'self'`). */
export const APP_CSS = String.raw`:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --fg: #1b1f24;
  --muted: #59636e;
  --card: #ffffff;
  --line: #d5dae0;
  --accent: #2453c8;
  --accent-fg: #ffffff;
  --danger: #b3261e;
  --danger-fg: #ffffff;
  --ok: #1a7f37;
  --warn-bg: #fff4d6;
  --warn-line: #d4a72c;
  --error-bg: #fdecea;
  --focus: #f5a623;
  --radius: 8px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px;
  line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418;
    --fg: #e6e9ed;
    --muted: #9aa4ae;
    --card: #1b2026;
    --line: #343c45;
    --accent: #6d95ff;
    --accent-fg: #0b1020;
    --danger: #ff7b72;
    --danger-fg: #1b0a08;
    --ok: #56d364;
    --warn-bg: #3a2e0b;
    --warn-line: #bb8009;
    --error-bg: #3d1613;
  }
}
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
[hidden] { display: none !important; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
a { color: var(--accent); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 0 0 0.75rem; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip-link { position: absolute; left: 0.5rem; top: -3rem; background: var(--card); padding: 0.5rem 0.75rem; border-radius: var(--radius); z-index: 10; }
.skip-link:focus { top: 0.5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }

.top { background: var(--card); border-bottom: 1px solid var(--line); }
.top-inner, main { max-width: 76rem; margin: 0 auto; padding: 1rem; }
.top-inner { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; }
.session { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; color: var(--muted); }
.session strong { color: var(--fg); }

.card, dialog { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); }
.card { padding: 1.25rem; max-width: 36rem; }
.hint { color: var(--muted); font-size: 0.875rem; margin: 0.25rem 0 0.5rem; }
.notice { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: 0.75rem 1rem; border-radius: var(--radius); }
.warning { background: var(--warn-bg); border: 1px solid var(--warn-line); padding: 0.75rem 1rem; border-radius: var(--radius); }
.alert, .form-error, .field-error { background: var(--error-bg); border: 1px solid var(--danger); color: var(--fg); padding: 0.6rem 0.9rem; border-radius: var(--radius); }
.alert { margin-bottom: 1rem; }
.field-error { margin: 0.5rem 0 0; }
.empty { color: var(--muted); }

label { display: inline-block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
input[type="text"], input[type="password"], input[type="date"], input:not([type]), select {
  display: block; width: 100%; max-width: 32rem; padding: 0.55rem 0.65rem; font: inherit;
  color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
}
input[type="date"] { max-width: 14rem; margin-top: 0.25rem; }
input:disabled { opacity: 0.55; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); margin: 1rem 0; padding: 0.5rem 0.9rem 0.9rem; min-width: 0; }
legend { font-weight: 700; padding: 0 0.35rem; }
fieldset.legacy { margin-bottom: 0; }
.radio { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 0.4rem; }
.scope { display: grid; grid-template-columns: 1.05rem minmax(0, 1fr); align-items: baseline; column-gap: 0.5rem; }
.radio label, .scope label { font-weight: 400; margin: 0.2rem 0; }
.scope .hint { grid-column: 2; margin: 0 0 0.35rem; }
input[type="checkbox"], input[type="radio"] { width: 1.05rem; height: 1.05rem; margin: 0; flex: none; accent-color: var(--accent); }
.scope input:disabled + label { color: var(--muted); }
.not-held { font-style: italic; }

button {
  font: inherit; cursor: pointer; padding: 0.5rem 0.9rem; min-height: 2.5rem; border-radius: 6px;
  border: 1px solid var(--line); background: var(--card); color: var(--fg);
}
button:hover { border-color: var(--muted); }
button:disabled { opacity: 0.6; cursor: progress; }
button.primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); font-weight: 600; }
button.danger { background: var(--danger); color: var(--danger-fg); border-color: var(--danger); font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; justify-content: flex-end; margin-top: 1rem; }
.card .actions, main > section > .actions { justify-content: flex-start; }

.toolbar { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; justify-content: space-between; margin-bottom: 0.75rem; }
.toolbar h2 { margin: 0; }
.table-wrap { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); }
table.keys { width: 100%; border-collapse: collapse; }
table.keys th, table.keys td { text-align: left; padding: 0.6rem 0.75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.keys thead th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); }
table.keys tbody tr:last-child > * { border-bottom: 0; }
table.keys tr.is-revoked, table.keys tr.is-expired { color: var(--muted); }
code.display { white-space: nowrap; overflow-wrap: normal; }
.chips { display: flex; flex-wrap: wrap; gap: 0.25rem; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 0 0.45rem; white-space: nowrap; }
.state { display: inline-block; border-radius: 999px; padding: 0 0.55rem; font-size: 0.85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.state-active { color: var(--ok); }
.state-expired { color: var(--muted); }
.state-revoked { color: var(--danger); }
.state-note { display: block; font-size: 0.8rem; color: var(--muted); }
.row-menu { position: relative; }
.menu-button { min-width: 2.75rem; font-weight: 700; letter-spacing: 0.1em; }
.menu {
  position: absolute; right: 0; top: 100%; z-index: 5; min-width: 11rem; margin-top: 0.25rem;
  background: var(--card); border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: 0 6px 24px rgba(0, 0, 0, 0.18); padding: 0.25rem; display: flex; flex-direction: column;
}
.menu button { border: 0; text-align: left; border-radius: 4px; background: transparent; }
.menu button:hover, .menu button:focus { background: var(--bg); }
.menu button.danger-item { color: var(--danger); }

dialog { color: var(--fg); padding: 1.25rem; width: min(46rem, calc(100vw - 1.5rem)); max-height: calc(100vh - 1.5rem); overflow: auto; }
dialog::backdrop { background: rgba(10, 12, 16, 0.55); }
table.scope-grid { width: 100%; border-collapse: collapse; }
table.scope-grid th, table.scope-grid td { text-align: left; vertical-align: top; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); }
table.scope-grid thead th { font-size: 0.8rem; color: var(--muted); }
table.scope-grid th[scope="row"] { width: 9rem; }
table.scope-grid th[scope="row"] .hint { font-weight: 400; }
.none { color: var(--muted); font-size: 0.875rem; }
.secret-slot { margin: 0.75rem 0; }
.secret {
  display: block; padding: 0.75rem; background: var(--bg); border: 1px dashed var(--warn-line); border-radius: 6px;
  font-size: 0.95rem; user-select: all; overflow-wrap: anywhere;
}

@media (max-width: 720px) {
  .top-inner, main { padding: 0.75rem; }
  table.keys thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.keys, table.keys tbody, table.keys tr, table.keys td { display: block; width: 100%; }
  table.keys tr { border-bottom: 1px solid var(--line); padding: 0.5rem 0; position: relative; }
  table.keys td { border: 0; padding: 0.25rem 0.75rem; display: grid; grid-template-columns: 6.5rem 1fr; gap: 0.5rem; }
  table.keys td::before { content: attr(data-label); font-size: 0.8rem; color: var(--muted); font-weight: 600; }
  table.keys td.cell-actions { display: block; position: absolute; top: 0.5rem; right: 0.5rem; width: auto; padding: 0; }
  table.keys td.cell-actions::before { content: none; }
  table.keys td.cell-name { padding-right: 4rem; }
  table.scope-grid thead { display: none; }
  table.scope-grid, table.scope-grid tbody, table.scope-grid tr, table.scope-grid th, table.scope-grid td { display: block; width: 100%; }
  table.scope-grid th[scope="row"] { width: 100%; border-bottom: 0; padding-bottom: 0; }
  table.scope-grid td { border-bottom: 0; padding-top: 0; padding-bottom: 0; }
  table.scope-grid tr { border-bottom: 1px solid var(--line); padding-bottom: 0.4rem; }
  .actions { justify-content: stretch; }
  .actions button { flex: 1 1 auto; }
}
@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; animation: none !important; }
}
`;
