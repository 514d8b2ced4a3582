import { expect, it } from 'vitest';
import {
  endedFromQuery,
  escapeHtml,
  loginPages,
  MAX_NAME_LENGTH,
  nameFromForm,
} from '../pages.mjs';

it('takes a name of 1 to 40 characters, trimmed, and nothing else', () => {
  expect(nameFromForm({ name: '  Ada  ' })).toBe('Ada');
  expect(nameFromForm({ name: 'x'.repeat(MAX_NAME_LENGTH) })).toBe('x'.repeat(40));
  for (const body of [{ name: '   ' }, { name: 'x'.repeat(41) }, {}, undefined, null]) {
    expect(nameFromForm(body)).toBeUndefined();
  }
});

it('escapes what could open markup or end an attribute', () => {
  expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
    '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
  );
});

it('puts the title in every page and escapes what the visitor or the error brings', () => {
  const pages = loginPages('sessionfs login demo (Test)');
  for (const html of [pages.login(), pages.nameRefused(), pages.error('x')]) {
    expect(html).toContain('<title>sessionfs login demo (Test)</title>');
    expect(html).toContain('<h1>sessionfs login demo (Test)</h1>');
  }
  expect(pages.login()).toContain('<p id="status">You are not logged in.</p>');
  expect(pages.login()).toContain('maxlength="40"');
  expect(pages.nameRefused()).toContain('Enter a name of 1 to 40 characters.');
  const welcome = pages.welcome('<b>Ada</b>', 3, '/tmp/sessions/a&b');
  expect(welcome).toContain('<strong id="user">&#60;b&#62;Ada&#60;/b&#62;</strong>');
  expect(welcome).toContain('<strong id="visits">3</strong>');
  expect(welcome).toContain('the file /tmp/sessions/a&#38;b.');
  expect(pages.error('<oops>')).toContain('<p class="error" role="alert">&#60;oops&#62;</p>');
});

it('offers to log out the other sessions, and says how many it ended', () => {
  const pages = loginPages('demo');
  const welcome = pages.welcome('Ada', 1, '/tmp/f');
  expect(welcome).toContain('<form method="post" action="/logout-others">');
  expect(welcome).not.toContain('id="ended"');
  expect(pages.welcome('Ada', 1, '/tmp/f', 1)).toContain(
    'Logged out of <strong>1</strong> other session.',
  );
  expect(pages.welcome('Ada', 1, '/tmp/f', 0)).toContain(
    'Logged out of <strong>0</strong> other sessions.',
  );
});

it('reads the count of ended sessions from the query, and nothing else', () => {
  expect(endedFromQuery({ ended: '3' })).toBe(3);
  for (const query of [{ ended: '-1' }, { ended: '<b>' }, { ended: ['1'] }, {}, undefined]) {
    expect(endedFromQuery(query)).toBeUndefined();
  }
});
