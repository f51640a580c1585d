/** Types of launch.js (plain JavaScript: it runs before any TypeScript can). */
export declare const sourceKey: (root: string, dirs: ReadonlyArray<string>, files?: ReadonlyArray<string>) => string
export declare const defaultCacheDir: (root: string) => string
export declare const bundledEntry: (options: {
  readonly root: string
  readonly entry: string
  readonly cacheDir?: string
  readonly sources?: ReadonlyArray<string>
  readonly manifests?: ReadonlyArray<string>
}) => Promise<string>
export declare const launch: (root: string) => Promise<unknown>
export declare const installedPackages: (root: string) => string | undefined
