exports = function () {
  const u = context.user;
  return { id: u.id, type: u.type, data: u.data, providers: u.identities.map((i) => i.provider_type),
           custom: u.custom_data };
};
