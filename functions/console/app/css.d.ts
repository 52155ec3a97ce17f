/** CSS imported for its side effect: esbuild bundles it into the console's stylesheet. */
declare module '*.css';
