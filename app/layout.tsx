export const metadata = { title: "cronlayer", description: "Background jobs on Vercel, QStash and Supabase" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
