import { describe, expect, it } from 'vitest';
import { axisTicks, barChart, escapeXml, PLOT_LEFT, PLOT_RIGHT } from '../src/chart.mjs';

const routes = [
  { key: 'counter', label: 'GET /counter' },
  { key: 'whoami', label: 'GET /whoami' },
];

/** The elements named `tag` in `svg`, each as its attributes (numbers where numeric). */
function elements(svg, tag, className) {
  return [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))]
    .map(([, attributes]) =>
      Object.fromEntries(
        [...attributes.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, name, value]) => [
          name,
          value !== '' && Number.isFinite(Number(value)) ? Number(value) : value,
        ]),
      ),
    )
    .filter((element) => className === undefined || element.class === className);
}

/** Whether every tag of `svg` is closed in order (the markup is well formed). */
function balanced(svg) {
  const open = [];
  for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)\b[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (!closing) open.push(name);
    else if (open.pop() !== name) return `unexpected ${tag}`;
  }
  return open.length === 0;
}

const fileGroup = {
  title: 'file stores',
  floor: { label: 'bare', rps: { counter: 2_000, whoami: 2_500 } },
  contenders: [
    { label: 'sessionfs', rps: { counter: 2_400, whoami: 9_600 } },
    { label: 'memory', rps: { counter: 10_000, whoami: 12_000 } },
    { label: 'bare (floor)', rps: { counter: 2_000, whoami: 2_500 }, isFloor: true },
  ],
};

describe('axisTicks', () => {
  it('ends at the first round tick at or above the largest value', () => {
    expect(axisTicks(12_000)).toEqual({
      step: 2_000,
      top: 12_000,
      ticks: [0, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000],
    });
    expect(axisTicks(12_001)).toMatchObject({ step: 2_500, top: 12_500 });
    expect(axisTicks(9_922)).toMatchObject({ step: 2_000, top: 10_000 });
    expect(axisTicks(0)).toMatchObject({ top: 1 });
  });
});

describe('barChart', () => {
  const svg = barChart({ title: 'req/s', description: 'a test', routes, groups: [fileGroup] });
  const plotWidth = PLOT_RIGHT - PLOT_LEFT;

  it('draws one bar per contender and route, its length proportional to its value', () => {
    const bars = elements(svg, 'rect', 'bar');
    expect(bars.map((bar) => bar['data-value'])).toEqual([
      2_400, 9_600, 10_000, 12_000, 2_000, 2_500,
    ]);
    // The axis runs to 12,000 (the largest value, a round tick).
    for (const bar of bars) {
      expect(bar.x).toBe(PLOT_LEFT);
      expect(bar.width).toBeCloseTo((bar['data-value'] / 12_000) * plotWidth, 1);
    }
    expect(bars[2].width / bars[0].width).toBeCloseTo(10_000 / 2_400, 2);
    expect(bars.map((bar) => bar['data-route'])).toEqual([
      'counter',
      'whoami',
      'counter',
      'whoami',
      'counter',
      'whoami',
    ]);
  });

  it("marks the floor's rate of the same route across each bar but the floor's own", () => {
    const bars = elements(svg, 'rect', 'bar');
    const marks = elements(svg, 'line', 'floor-mark');
    expect(marks.map((mark) => [mark['data-route'], mark['data-value']])).toEqual([
      ['counter', 2_000],
      ['whoami', 2_500],
      ['counter', 2_000],
      ['whoami', 2_500],
    ]);
    marks.forEach((mark, i) => {
      const x = PLOT_LEFT + (mark['data-value'] / 12_000) * plotWidth;
      expect(mark.x1).toBeCloseTo(x, 1);
      expect(mark.x2).toBeCloseTo(x, 1);
      // Across its own bar: the bar's top and bottom lie between the mark's ends.
      const bar = bars[i];
      expect(mark.y1).toBeLessThan(bar.y);
      expect(mark.y2).toBeGreaterThan(bar.y + bar.height);
      expect(mark['stroke-dasharray']).toBe('3 2');
    });
    expect(svg).toContain("the group's floor on the same route");
  });

  it('has a labelled axis, a title and a description for screen readers', () => {
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="chart-title chart-desc"/);
    expect(svg).toContain('<title id="chart-title">req/s</title>');
    expect(svg).toContain('<desc id="chart-desc">a test</desc>');
    for (const tick of ['0', '2,000', '12,000']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain('<title>sessionfs, GET /counter: 2,400 req/s, 1.20x the floor</title>');
    expect(balanced(svg)).toBe(true);
  });

  it('draws "not run" for a missing rate and no marks for a group whose floor did not run', () => {
    const chart = barChart({
      title: 't',
      description: 'd',
      routes,
      groups: [
        {
          title: 'Redis',
          contenders: [
            { label: 'connect-redis', rps: { counter: 10_000, whoami: 11_000 } },
            { label: 'csc', rps: { counter: Number.NaN } },
          ],
        },
      ],
    });
    expect(elements(chart, 'rect', 'bar').map((bar) => bar['data-value'])).toEqual([
      10_000, 11_000,
    ]);
    expect(elements(chart, 'line', 'floor-mark')).toEqual([]);
    expect(chart).toContain('GET /counter: not run');
    expect(chart).toContain('GET /whoami: not run');
    expect(chart).toContain('Redis (floor not run)');
    expect(balanced(chart)).toBe(true);
  });

  it('draws an axis even when nothing ran', () => {
    const chart = barChart({ title: 't', description: 'd', routes, groups: [] });
    expect(elements(chart, 'rect', 'bar')).toEqual([]);
    expect(balanced(chart)).toBe(true);
  });

  it('escapes names, titles and descriptions', () => {
    const hostile = '<script>alert("x")</script> & \'co\'';
    const chart = barChart({
      title: hostile,
      description: hostile,
      routes: [{ key: 'r"', label: hostile }],
      groups: [
        {
          title: hostile,
          floor: { label: hostile, rps: { 'r"': 1 } },
          contenders: [{ label: hostile, rps: { 'r"': 2 } }],
        },
      ],
    });
    expect(chart).not.toContain('<script>');
    expect(chart).not.toContain('"x"');
    expect(chart).toContain(escapeXml(hostile));
    expect(chart).toContain('data-route="r&quot;"');
    expect(balanced(chart)).toBe(true);
  });

  it('cuts a long label, keeping the whole of it in a tooltip', () => {
    const label = 'a store with a very long name that would run into the bars, cut';
    const chart = barChart({
      title: 't',
      description: 'd',
      routes,
      groups: [{ title: 'g', contenders: [{ label, rps: { counter: 1, whoami: 1 } }] }],
    });
    expect(chart).toContain(`>${label.slice(0, 41)}…<title>${label}</title></text>`);
  });
});

describe('escapeXml', () => {
  it('replaces the five characters markup gives a meaning to', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
