/** Time units. On-chain time is block time in seconds: DAY is in seconds; DAY_MS for wall-clock Date arithmetic. */
export const DAY = 86_400;
export const DAY_MS = DAY * 1000;
