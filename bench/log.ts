/** Benchmarks print their figures on stdout and their progress here, on stderr. */
export const benchLog = (line: string) => console.error(`[bench] ${line}`);
