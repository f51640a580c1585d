/** An argument as a POSIX shell reads it back: bare when it is plain, else single-quoted. */
export const shellWord = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)
