/**
 * Every word the payment page says, in each language it speaks; the page's language is the first
 * of the browser's (Accept-Language) that is here, else English. Network names and currency codes
 * are not translated. To add a language: one more entry of `Strings`, and its code in `languages`.
 */
import type { PageStatus } from './payment-state';

export interface StatusWords {
  amount: string;
  received: string;
  remaining: string;
  currency: string;
  network: string;
  merchant: string;
  confirmations: number | null;
  required: number | null;
}

export interface Strings {
  title: (merchant: string) => string;
  testBanner: string;
  amount: string;
  /** A fiat order's amount in its fiat, at the rate locked when it was made. */
  fiatEquivalent: (fiat: string) => string;
  network: string;
  address: string;
  copy: string;
  copied: string;
  copyFailed: string;
  networkWarning: (currency: string, standard: string, network: string) => string;
  qrLabel: (currency: string, network: string) => string;
  qrWithoutAmount: string;
  openInWallet: string;
  timeLeft: string;
  payBy: string;
  headline: Record<PageStatus, (words: StatusWords) => string>;
  detail: Record<PageStatus, (words: StatusWords) => string>;
  overpaid: (words: StatusWords) => string;
  late: (merchant: string) => string;
  otherAsset: (amount: string, currency: string, merchant: string) => string;
  reloadForStatus: string;
  returnTo: (merchant: string) => string;
  cancelAndReturn: (merchant: string) => string;
  redirecting: (merchant: string) => string;
  simulate: string;
  simulateHelp: string;
  simulated: string;
  simulateRefused: string;
  notFoundTitle: string;
  notFound: string;
  tooManyTitle: string;
  tooMany: string;
  logoAlt: (merchant: string) => string;
}

const en: Strings = {
  title: (merchant) => `Pay ${merchant}`,
  testBanner: 'Test mode: no real money moves. Pay from a test network, or with the simulate button below.',
  amount: 'Amount',
  fiatEquivalent: (fiat) => `${fiat}, at the rate fixed when this request was made`,
  network: 'Network',
  address: 'Send to this address',
  copy: 'Copy',
  copied: 'Copied',
  copyFailed: 'Could not copy: select the text and copy it',
  networkWarning: (currency, standard, network) =>
    `Send only ${currency} on ${network}${standard ? ` (${standard})` : ''}. ${currency} sent on any other network does not arrive here and may be lost: ${currency} on Tron is not ${currency} on Ethereum.`,
  qrLabel: (currency, network) => `QR code: a payment request for ${currency} on ${network} to the address above`,
  qrWithoutAmount: 'The QR code holds the address only: enter the amount yourself.',
  openInWallet: 'Open in a wallet app',
  timeLeft: 'Time left',
  payBy: 'Pay by',
  headline: {
    awaiting_payment: () => 'Waiting for your payment',
    confirming: () => 'Payment detected, confirming',
    partially_paid: () => 'Partly paid',
    completed: () => 'Paid',
    expired: () => 'This payment request has expired',
    underpaid: () => 'Expired before it was paid in full',
    canceled: () => 'This payment request was canceled',
  },
  detail: {
    awaiting_payment: (w) => `Send exactly ${w.amount} ${w.currency} on ${w.network}.`,
    confirming: (w) =>
      w.confirmations === null
        ? 'Your payment is on its way.'
        : `${w.confirmations} of ${w.required} confirmations. You may close this page: ${w.merchant} is told when it completes.`,
    partially_paid: (w) => `${w.received} ${w.currency} received. Send the remaining ${w.remaining} ${w.currency} before the time runs out.`,
    completed: (w) => `${w.received} ${w.currency} received. Thank you.`,
    expired: (w) => `Do not send anything to this address for it. Ask ${w.merchant} for a new payment link.`,
    underpaid: (w) =>
      `${w.received} of ${w.amount} ${w.currency} arrived in time; ${w.remaining} ${w.currency} is missing. Do not send more here: contact ${w.merchant}.`,
    canceled: (w) => `${w.merchant} canceled it. Do not send anything to this address for it.`,
  },
  overpaid: (w) => `You sent more than ${w.amount} ${w.currency}: contact ${w.merchant} about the difference.`,
  late: (merchant) => `A payment arrived after this request had closed. It was received, and ${merchant} has been told.`,
  otherAsset: (amount, currency, merchant) =>
    `${amount} ${currency} also arrived at this address. It does not count towards this payment: contact ${merchant}.`,
  reloadForStatus: 'Reload this page to see the latest status.',
  returnTo: (merchant) => `Return to ${merchant}`,
  cancelAndReturn: (merchant) => `Cancel and return to ${merchant}`,
  redirecting: (merchant) => `Taking you back to ${merchant}…`,
  simulate: 'Simulate payment',
  simulateHelp: 'Pays what is left through the test-mode simulator, as a real payment would: detected, confirming, completed.',
  simulated: 'A simulated payment was sent.',
  simulateRefused: 'Nothing is left to pay, or a payment is confirming: nothing was simulated.',
  notFoundTitle: 'Payment page not found',
  notFound: 'This link leads nowhere. Check the link you were given, or ask the merchant for a new one.',
  tooManyTitle: 'Too many requests',
  tooMany: 'This page is open in too many places at once. Close some and reload.',
  logoAlt: (merchant) => `${merchant} logo`,
};

const es: Strings = {
  title: (merchant) => `Pagar a ${merchant}`,
  testBanner: 'Modo de prueba: no se mueve dinero real. Pague desde una red de prueba o con el botón de simulación de abajo.',
  amount: 'Importe',
  fiatEquivalent: (fiat) => `${fiat}, al tipo de cambio fijado al crear esta solicitud`,
  network: 'Red',
  address: 'Envíe a esta dirección',
  copy: 'Copiar',
  copied: 'Copiado',
  copyFailed: 'No se pudo copiar: seleccione el texto y cópielo',
  networkWarning: (currency, standard, network) =>
    `Envíe solo ${currency} en ${network}${standard ? ` (${standard})` : ''}. ${currency} enviado en cualquier otra red no llega aquí y puede perderse: ${currency} en Tron no es ${currency} en Ethereum.`,
  qrLabel: (currency, network) => `Código QR: una solicitud de pago de ${currency} en ${network} a la dirección de arriba`,
  qrWithoutAmount: 'El código QR contiene solo la dirección: introduzca el importe usted.',
  openInWallet: 'Abrir en una app de billetera',
  timeLeft: 'Tiempo restante',
  payBy: 'Pague antes de',
  headline: {
    awaiting_payment: () => 'Esperando su pago',
    confirming: () => 'Pago detectado, confirmando',
    partially_paid: () => 'Pagado en parte',
    completed: () => 'Pagado',
    expired: () => 'Esta solicitud de pago ha caducado',
    underpaid: () => 'Caducó antes de pagarse por completo',
    canceled: () => 'Esta solicitud de pago fue cancelada',
  },
  detail: {
    awaiting_payment: (w) => `Envíe exactamente ${w.amount} ${w.currency} en ${w.network}.`,
    confirming: (w) =>
      w.confirmations === null
        ? 'Su pago está en camino.'
        : `${w.confirmations} de ${w.required} confirmaciones. Puede cerrar esta página: ${w.merchant} recibe aviso cuando se complete.`,
    partially_paid: (w) => `Recibidos ${w.received} ${w.currency}. Envíe los ${w.remaining} ${w.currency} restantes antes de que acabe el tiempo.`,
    completed: (w) => `Recibidos ${w.received} ${w.currency}. Gracias.`,
    expired: (w) => `No envíe nada a esta dirección para ella. Pida a ${w.merchant} un nuevo enlace de pago.`,
    underpaid: (w) =>
      `Llegaron ${w.received} de ${w.amount} ${w.currency} a tiempo; faltan ${w.remaining} ${w.currency}. No envíe más aquí: contacte con ${w.merchant}.`,
    canceled: (w) => `${w.merchant} la canceló. No envíe nada a esta dirección para ella.`,
  },
  overpaid: (w) => `Envió más de ${w.amount} ${w.currency}: contacte con ${w.merchant} por la diferencia.`,
  late: (merchant) => `Llegó un pago después de cerrarse esta solicitud. Se recibió y ${merchant} ha sido avisado.`,
  otherAsset: (amount, currency, merchant) => `También llegaron ${amount} ${currency} a esta dirección. No cuentan para este pago: contacte con ${merchant}.`,
  reloadForStatus: 'Recargue esta página para ver el estado más reciente.',
  returnTo: (merchant) => `Volver a ${merchant}`,
  cancelAndReturn: (merchant) => `Cancelar y volver a ${merchant}`,
  redirecting: (merchant) => `Le llevamos de vuelta a ${merchant}…`,
  simulate: 'Simular pago',
  simulateHelp: 'Paga lo que falta con el simulador del modo de prueba, como lo haría un pago real: detectado, confirmando, completado.',
  simulated: 'Se envió un pago simulado.',
  simulateRefused: 'No queda nada por pagar o hay un pago confirmándose: no se simuló nada.',
  notFoundTitle: 'Página de pago no encontrada',
  notFound: 'Este enlace no lleva a ninguna parte. Compruebe el enlace recibido o pida uno nuevo al comercio.',
  tooManyTitle: 'Demasiadas solicitudes',
  tooMany: 'Esta página está abierta en demasiados sitios a la vez. Cierre alguno y recargue.',
  logoAlt: (merchant) => `Logotipo de ${merchant}`,
};

const de: Strings = {
  title: (merchant) => `An ${merchant} zahlen`,
  testBanner: 'Testmodus: Es wird kein echtes Geld bewegt. Zahlen Sie aus einem Testnetz oder mit der Simulationsschaltfläche unten.',
  amount: 'Betrag',
  fiatEquivalent: (fiat) => `${fiat}, zum Kurs, der beim Erstellen dieser Anfrage festgelegt wurde`,
  network: 'Netzwerk',
  address: 'An diese Adresse senden',
  copy: 'Kopieren',
  copied: 'Kopiert',
  copyFailed: 'Kopieren fehlgeschlagen: Text markieren und kopieren',
  networkWarning: (currency, standard, network) =>
    `Senden Sie nur ${currency} auf ${network}${standard ? ` (${standard})` : ''}. ${currency} auf einem anderen Netzwerk kommt hier nicht an und kann verloren gehen: ${currency} auf Tron ist nicht ${currency} auf Ethereum.`,
  qrLabel: (currency, network) => `QR-Code: eine Zahlungsanforderung über ${currency} auf ${network} an die Adresse oben`,
  qrWithoutAmount: 'Der QR-Code enthält nur die Adresse: Geben Sie den Betrag selbst ein.',
  openInWallet: 'In einer Wallet-App öffnen',
  timeLeft: 'Verbleibende Zeit',
  payBy: 'Zahlen bis',
  headline: {
    awaiting_payment: () => 'Warten auf Ihre Zahlung',
    confirming: () => 'Zahlung erkannt, wird bestätigt',
    partially_paid: () => 'Teilweise bezahlt',
    completed: () => 'Bezahlt',
    expired: () => 'Diese Zahlungsanforderung ist abgelaufen',
    underpaid: () => 'Abgelaufen, bevor sie vollständig bezahlt war',
    canceled: () => 'Diese Zahlungsanforderung wurde storniert',
  },
  detail: {
    awaiting_payment: (w) => `Senden Sie genau ${w.amount} ${w.currency} auf ${w.network}.`,
    confirming: (w) =>
      w.confirmations === null
        ? 'Ihre Zahlung ist unterwegs.'
        : `${w.confirmations} von ${w.required} Bestätigungen. Sie können diese Seite schließen: ${w.merchant} wird benachrichtigt, sobald sie abgeschlossen ist.`,
    partially_paid: (w) => `${w.received} ${w.currency} erhalten. Senden Sie die restlichen ${w.remaining} ${w.currency}, bevor die Zeit abläuft.`,
    completed: (w) => `${w.received} ${w.currency} erhalten. Vielen Dank.`,
    expired: (w) => `Senden Sie dafür nichts an diese Adresse. Bitten Sie ${w.merchant} um einen neuen Zahlungslink.`,
    underpaid: (w) =>
      `${w.received} von ${w.amount} ${w.currency} kamen rechtzeitig an; es fehlen ${w.remaining} ${w.currency}. Senden Sie nichts mehr hierher: Wenden Sie sich an ${w.merchant}.`,
    canceled: (w) => `${w.merchant} hat sie storniert. Senden Sie dafür nichts an diese Adresse.`,
  },
  overpaid: (w) => `Sie haben mehr als ${w.amount} ${w.currency} gesendet: Wenden Sie sich wegen der Differenz an ${w.merchant}.`,
  late: (merchant) => `Eine Zahlung kam an, nachdem diese Anforderung geschlossen war. Sie wurde empfangen, und ${merchant} wurde benachrichtigt.`,
  otherAsset: (amount, currency, merchant) =>
    `An diese Adresse kamen außerdem ${amount} ${currency}. Sie zählen nicht zu dieser Zahlung: Wenden Sie sich an ${merchant}.`,
  reloadForStatus: 'Laden Sie diese Seite neu, um den aktuellen Stand zu sehen.',
  returnTo: (merchant) => `Zurück zu ${merchant}`,
  cancelAndReturn: (merchant) => `Abbrechen und zurück zu ${merchant}`,
  redirecting: (merchant) => `Sie werden zu ${merchant} zurückgeleitet…`,
  simulate: 'Zahlung simulieren',
  simulateHelp: 'Bezahlt den Rest über den Simulator des Testmodus, wie eine echte Zahlung: erkannt, wird bestätigt, abgeschlossen.',
  simulated: 'Eine simulierte Zahlung wurde gesendet.',
  simulateRefused: 'Es ist nichts mehr zu zahlen, oder eine Zahlung wird bestätigt: Es wurde nichts simuliert.',
  notFoundTitle: 'Zahlungsseite nicht gefunden',
  notFound: 'Dieser Link führt nirgendwohin. Prüfen Sie den erhaltenen Link oder bitten Sie den Händler um einen neuen.',
  tooManyTitle: 'Zu viele Anfragen',
  tooMany: 'Diese Seite ist an zu vielen Stellen gleichzeitig geöffnet. Schließen Sie einige und laden Sie neu.',
  logoAlt: (merchant) => `Logo von ${merchant}`,
};

export const languages = { en, es, de } as const satisfies Record<string, Strings>;
export type Language = keyof typeof languages;

/** The first language of the browser's list (by its q-values) that the page speaks; English otherwise. */
export function negotiateLanguage(acceptLanguage: string | undefined): Language {
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...parameters] = part.trim().split(';');
      const q = parameters.map((parameter) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(parameter)).find(Boolean);
      return { language: tag.trim().toLowerCase().split('-')[0] ?? '', q: q ? Number(q[1]) : 1, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return (wanted.find((entry) => Object.hasOwn(languages, entry.language))?.language as Language | undefined) ?? 'en';
}

/** The token standard payers know a network's tokens by; none for a native coin. */
export function tokenStandard(network: string, isNative: boolean): string {
  if (isNative) return '';
  if (network === 'tron') return 'TRC-20';
  if (network === 'bsc') return 'BEP-20';
  return 'ERC-20';
}

export const networkTitles: Record<string, string> = {
  ethereum: 'Ethereum',
  polygon: 'Polygon',
  bsc: 'BNB Smart Chain',
  arbitrum: 'Arbitrum One',
  base: 'Base',
  tron: 'Tron',
};
