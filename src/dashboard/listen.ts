/** Where `promha dashboard` and `up`'s dashboard listen unless told otherwise: loopback only. */
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:9797';
