// tsx's scoped require (tsx/cjs/api), whose own types need a newer moduleResolution than Baton's.
declare module 'tsx/cjs/api' {
  /** Loads a TypeScript (or JavaScript) module as `require` would, compiling it on the fly. */
  export function require(id: string, fromFile: string): unknown;
  /** Lets `require` load TypeScript from now on; returns the function that undoes it. */
  export function register(): () => void;
}
