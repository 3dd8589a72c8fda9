// Node (CommonJS): the wasm-bindgen Node glue loads and instantiates the .wasm synchronously.
'use strict';
module.exports = require('./wasm-node/akidb.js');
