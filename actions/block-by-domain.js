// Action: Only allow corporate email addresses
exports.onExecutePostLogin = async (event, api) => {
  const allowedDomains = ['yourcompany.com', 'partnercompany.com'];
  const email = event.user.email ?? '';
  const domain = email.split('@')[1];
 
  if (!allowedDomains.includes(domain)) {
    api.access.deny(`Access restricted to corporate email addresses.`);
  }
};
