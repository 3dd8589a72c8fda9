export const metadata = { title: 'akidb next app', icons: { icon: 'data:,' } };
export default function RootLayout({ children }) {
  return (<html lang="en"><body>{children}</body></html>);
}
