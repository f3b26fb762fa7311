declare const __LABBOOK_VERSION__: string;

/** Set at build time from package.json. */
export const LABBOOK_VERSION: string = typeof __LABBOOK_VERSION__ === 'string' ? __LABBOOK_VERSION__ : '0.0.0-dev';
