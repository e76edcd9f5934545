import { pathToFileURL } from 'node:url';

/** True when the module at `url` is the script node was started with (not imported by a test). */
export const isMain = (url: string) => !!process.argv[1] && pathToFileURL(process.argv[1]).href === url;
