// A horizontal grouped bar chart as plain SVG text: one bar per route for each contender,
// contenders in groups (file stores, Redis, Express), and on every bar a dashed mark at the
// rate of its group's floor on the same route. Horizontal, so that contender names read in
// full at about 800 px wide. No dependency: the benchmark writes it beside its markdown.
import { fmt } from './util.mjs';

const WIDTH = 800;
const MARGIN = 16;
const LABEL_RIGHT = 272;
export const PLOT_LEFT = 280;
export const PLOT_RIGHT = WIDTH - 72; // room for the value printed after the longest bar
const BAR_HEIGHT = 12;
const BAR_STEP = BAR_HEIGHT + 3;
const CONTENDER_GAP = 10;
const GROUP_TITLE = 26;
const PLOT_TOP = 92;
/** Longer labels are cut, with the full one in a tooltip: the label column is 256 px wide. */
const LABEL_CHARS = 42;
/** Blue and orange: told apart with any of the common colour-vision deficiencies. */
const ROUTE_COLOURS = ['#3b6fb6', '#e08a2c', '#6a9f58', '#9b59b6'];

/** `text` safe inside an SVG element or a double-quoted attribute. */
export const escapeXml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char],
  );

/**
 * Axis ticks for values up to `max`: a step of 1, 2, 2.5 or 5 times a power of ten giving
 * at most 6 intervals, and the top of the axis, the first tick at or above `max`.
 */
export function axisTicks(max) {
  if (!(max > 0)) return { step: 1, top: 1, ticks: [0, 1] };
  const rough = max / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let i = 0; i * step <= top + step / 1e6; i += 1) ticks.push(i * step);
  return { step, top, ticks };
}

const isRate = (value) => Number.isFinite(value) && value >= 0;

/**
 * The chart's SVG text. `routes`: `[{ key, label }]`, one bar each per contender, in order.
 * `groups`: `[{ title, floor?: { label, rps }, contenders: [{ label, rps, isFloor? }] }]`,
 * `rps` mapping a route's key to req/s (a route missing or not finite: drawn as "not run");
 * a group without `floor` has no marks. `title` and `description` head the chart and name it
 * for screen readers.
 */
export function barChart({ title, description, routes, groups }) {
  const values = groups.flatMap((group) =>
    [...group.contenders, ...(group.floor ? [group.floor] : [])].flatMap((contender) =>
      routes.map((route) => contender.rps?.[route.key]),
    ),
  );
  const { top, ticks } = axisTicks(Math.max(0, ...values.filter(isRate)));
  const xOf = (value) => PLOT_LEFT + (value / top) * (PLOT_RIGHT - PLOT_LEFT);
  const body = [];
  let y = PLOT_TOP;
  for (const group of groups) {
    const floorNote = group.floor ? '' : ' (floor not run)';
    body.push(
      `<text x="${MARGIN}" y="${y + 17}" font-size="13" font-weight="bold">${escapeXml(group.title + floorNote)}</text>`,
    );
    y += GROUP_TITLE;
    for (const contender of group.contenders) {
      const height = routes.length * BAR_STEP - (BAR_STEP - BAR_HEIGHT);
      const label =
        contender.label.length > LABEL_CHARS
          ? `${contender.label.slice(0, LABEL_CHARS - 1)}…`
          : contender.label;
      body.push(
        `<text x="${LABEL_RIGHT}" y="${y + height / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(label)}<title>${escapeXml(contender.label)}</title></text>`,
      );
      routes.forEach((route, i) => {
        const barY = y + i * BAR_STEP;
        const value = contender.rps?.[route.key];
        if (!isRate(value)) {
          body.push(
            `<text x="${PLOT_LEFT + 4}" y="${barY + BAR_HEIGHT - 2}" font-size="11" font-style="italic" fill="#666">${escapeXml(route.label)}: not run</text>`,
          );
          return;
        }
        const floor = contender.isFloor ? undefined : group.floor?.rps?.[route.key];
        const tooltip = `${contender.label}, ${route.label}: ${fmt(value)} req/s${
          isRate(floor) && floor > 0 ? `, ${(value / floor).toFixed(2)}x the floor` : ''
        }`;
        // The value follows the bar, or the floor's mark where that reaches further.
        const valueX = Math.max(xOf(value), isRate(floor) ? xOf(floor) + 2 : 0) + 4;
        body.push(
          `<rect class="bar" data-route="${escapeXml(route.key)}" data-value="${value}" x="${PLOT_LEFT}" y="${barY}" width="${(xOf(value) - PLOT_LEFT).toFixed(2)}" height="${BAR_HEIGHT}" fill="${ROUTE_COLOURS[i % ROUTE_COLOURS.length]}"><title>${escapeXml(tooltip)}</title></rect>`,
          `<text x="${valueX.toFixed(2)}" y="${barY + BAR_HEIGHT - 2}" font-size="11" fill="#333">${fmt(value)}</text>`,
        );
        if (isRate(floor)) {
          const x = xOf(floor).toFixed(2);
          body.push(
            `<line class="floor-mark" data-route="${escapeXml(route.key)}" data-value="${floor}" x1="${x}" x2="${x}" y1="${barY - 2}" y2="${barY + BAR_HEIGHT + 2}" stroke="#111" stroke-width="2" stroke-dasharray="3 2"><title>${escapeXml(`${group.floor.label}, ${route.label}: ${fmt(floor)} req/s`)}</title></line>`,
          );
        }
      });
      y += height + CONTENDER_GAP;
    }
  }
  const axisY = y + 4;
  const axis = ticks.flatMap((tick) => {
    const x = xOf(tick).toFixed(2);
    return [
      `<line x1="${x}" x2="${x}" y1="${PLOT_TOP}" y2="${axisY}" stroke="#ddd"/>`,
      `<text x="${x}" y="${axisY + 16}" text-anchor="middle" font-size="11" fill="#333">${fmt(tick)}</text>`,
    ];
  });
  const height = axisY + 44;
  const floorKeyX = MARGIN + routes.length * 150 + 6;
  const legend = [
    ...routes.map((route, i) => {
      const x = MARGIN + i * 150;
      return `<rect x="${x}" y="62" width="12" height="12" fill="${ROUTE_COLOURS[i % ROUTE_COLOURS.length]}"/><text x="${x + 18}" y="72" font-size="12">${escapeXml(route.label)}</text>`;
    }),
    `<line x1="${floorKeyX}" x2="${floorKeyX}" y1="60" y2="76" stroke="#111" stroke-width="2" stroke-dasharray="3 2"/><text x="${floorKeyX + 10}" y="72" font-size="12">the group's floor on the same route</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(description)}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN}" y="26" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${MARGIN}" y="46" font-size="12" fill="#444">${escapeXml(description)}</text>`,
    ...legend,
    ...axis,
    ...body,
    `<line x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`,
    `<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${axisY + 36}" text-anchor="middle" font-size="12" fill="#333">requests per second</text>`,
    '</svg>',
    '',
  ].join('\n');
}
