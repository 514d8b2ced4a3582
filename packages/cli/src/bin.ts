#!/usr/bin/env -S node --max-semi-space-size=2
// The flag caps V8's young generation at a few MB (16 MB by default), which otherwise
// fills with the short-lived objects of a long listing: every command stays far under
// 100 MB however many sessions it streams.
import { main } from './index.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
