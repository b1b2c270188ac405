exports = (x) => `hidden ${x}`;
