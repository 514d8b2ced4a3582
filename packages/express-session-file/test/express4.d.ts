// Express 4, installed under the alias `express4` beside Express 5: the same API for what
// these tests use, so it borrows @types/express.
declare module 'express4' {
  import express = require('express');
  export = express;
}
