export { insertWallet, type WalletRow } from './repository.js';
export { getWallet, listWallets, requireWallet, type WalletView } from './service.js';
