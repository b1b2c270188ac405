exports = () => {
  const r = context.request;
  return { ip: r.remoteIPAddress, method: r.httpMethod, agent: r.httpUserAgent,
           headers: Object.keys(r.requestHeaders).sort() };
};
