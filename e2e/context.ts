// What the global setup hands to the test files (vitest `provide`/`inject`).

export interface DemoLogin {
  username: string;
  password: string;
  role: string;
  unit: string;
}

export interface E2EContext {
  /** set when the suite cannot run here (no Chromium); the tests skip and say why */
  skip: string | null;
  baseUrl: string;
  chromiumPath: string;
  logins: DemoLogin[];
  /** appended to names the tests create, so a run against a reused server does not collide */
  runSuffix: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2EContext;
  }
}
