// ES2024 string methods (Node 20+), typed here because the project's lib stops at ES2023.
type Es2024String = { isWellFormed(): boolean; toWellFormed(): string };

/** Whether a string is Unicode text: no lone surrogate (a `\ud800` without its pair). */
export const isWellFormed = (s: string): boolean => (s as unknown as Es2024String).isWellFormed();

/** The string with each lone surrogate replaced by U+FFFD (safe to store, log or put in a key). */
export const toWellFormed = (s: string): string => (s as unknown as Es2024String).toWellFormed();
