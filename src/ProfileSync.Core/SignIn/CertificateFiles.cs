using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ProfileSync.Core.SignIn;

/// <summary>Finds the certificate for app-only sign-in. The password stays a SecureString until the file is opened.</summary>
public static class CertificateFiles
{
    public static X509Certificate2 FromStore(string thumbprint)
    {
        var wanted = new string(thumbprint.Where(char.IsAsciiHexDigit).ToArray()).ToUpperInvariant();
        foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
        {
            try
            {
                using var store = new X509Store(StoreName.My, location);
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                var found = store.Certificates.Find(X509FindType.FindByThumbprint, wanted, validOnly: false);
                foreach (var certificate in found)
                    if (certificate.HasPrivateKey) return certificate;
            }
            catch (CryptographicException)
            {
                // The store does not exist on this machine (LocalMachine on Linux for a normal user).
            }
        }
        throw new ArgumentException($"No certificate with thumbprint {wanted} and its private key is in CurrentUser\\My or LocalMachine\\My. Import the .pfx there, or use -CertificatePath.");
    }

    public static X509Certificate2 FromFile(string path, SecureString? password)
    {
        if (!File.Exists(path)) throw new ArgumentException($"The certificate file '{path}' does not exist.");
        // Ephemeral keys never touch the disk; macOS does not support them.
        var flags = OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
        try
        {
            var certificate = password is null
                ? new X509Certificate2(path, (string?)null, flags)
                : new X509Certificate2(path, password, flags);
            if (!certificate.HasPrivateKey)
                throw new ArgumentException($"The certificate in '{path}' has no private key; export it as a .pfx with its key.");
            return certificate;
        }
        catch (CryptographicException)
        {
            // The message of the underlying error is not shown: it can name the file's content, never useful, and the password is the usual cause.
            throw new ArgumentException($"The certificate file '{path}' could not be opened: the password is wrong or the file is not a .pfx/.p12 with a private key.");
        }
    }
}
