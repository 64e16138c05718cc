"""The dashboard's stylesheet, inlined into the page (nothing to fetch; works offline).

Phone first: one column, tiles that wrap, tables that scroll sideways; two columns on a desk.
"""

STYLE = """
:root { --ink:#1d2b2a; --muted:#5b6b69; --bg:#f4f7f6; --card:#fff; --line:#dde5e3;
        --l1:#b9e4d3; --l2:#4fb08c; --l3:#1c6e55; --warn:#b5471b; --track:#e9efed; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: var(--bg); }
header { padding: 14px 16px 6px; background: var(--l3); color: #fff; }
header h1 { margin: 0; font-size: 1.35rem; }
header h1 small { font-weight: 400; font-size: .8rem; opacity: .85; display: block; }
header p { margin: 4px 0 8px; font-size: .85rem; opacity: .9; }
/* minmax(0, ...) and min-width: 0: a wide table scrolls inside its box instead of widening the page. */
main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; padding: 12px; max-width: 1180px;
       margin: 0 auto; }
section { min-width: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px;
          padding: 12px 14px; }
h2 { font-size: 1.05rem; margin: 4px 0 8px; }
h3 { font-size: .95rem; margin: 14px 0 6px; }
h2 small, h3 small, td small { color: var(--muted); font-weight: 400; font-size: .78rem; }
td small { display: block; }
.big { margin: 0 0 6px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 10px; }
.big-n { font-size: 3rem; font-weight: 700; line-height: 1; color: var(--l3); }
.of { color: var(--muted); }
.pct { font-size: 1.3rem; font-weight: 600; margin-left: auto; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; margin: 10px 0; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.tile .n { display: block; font-size: 1.35rem; font-weight: 700; white-space: nowrap; }
.tile .l { font-size: .8rem; color: var(--muted); }
.tile .l small { display: block; }
.tile.warn .n { color: var(--warn); }
.legend { font-size: .78rem; color: var(--muted); margin: 2px 0; }
.legend span { white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 8px; }
.legend i.l1 { background: var(--l1); } .legend i.l2 { background: var(--l2); } .legend i.l3 { background: var(--l3); }
svg.chart { width: 100%; height: auto; display: block; }
svg.hbars, svg.columns { max-width: 500px; }
svg .track { fill: var(--track); }
svg .l1 { fill: var(--l1); } svg .l2 { fill: var(--l2); } svg .l3 { fill: var(--l3); }
svg .col { fill: var(--l2); }
svg .target { stroke: var(--warn); stroke-width: 3; }
svg .axis { stroke: var(--line); }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg text.tick, svg text.empty { fill: var(--muted); font-size: 10px; }
svg text.value { font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { padding: 5px 6px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; }
thead th { color: var(--muted); font-weight: 600; }
.scroll { overflow-x: auto; }
details { margin-top: 8px; } summary { cursor: pointer; color: var(--l3); }
.two { display: grid; gap: 12px; }
footer { padding: 8px 16px 24px; font-size: .8rem; color: var(--muted); text-align: center; }
a { color: var(--l3); }
.column { display: grid; gap: 12px; align-content: start; min-width: 0; }
@media (min-width: 900px) {
  main { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  section.hero { grid-column: 1 / -1; }
  .two { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
}
"""
