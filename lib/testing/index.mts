// ESM entry: re-exports the CommonJS build, so `import` and `require` share one copy of every class.
export * from './index.js';
