export const packageName = '@ds01/maintenance-runtime';
