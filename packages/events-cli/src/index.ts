export const packageName = '@ds01/events-cli';
