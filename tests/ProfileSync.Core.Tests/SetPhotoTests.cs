using System.Net;
using ProfileSync.Core.Http;
using ProfileSync.Core.Imaging;
using ProfileSync.Core.Sources;
using SkiaSharp;

namespace ProfileSync.Core.Tests;

/// <summary>Issue 7: a new photo is prepared as Exchange keeps it, and a source URL is read by the rules.</summary>
public class SetPhotoTests
{
    [Fact]
    public void A_photo_is_made_an_upright_square_JPEG_of_at_most_648_pixels()
    {
        // Stored on its side with EXIF 6: 200 wide, 300 high; left part red, the rest blue. Upright: red on top.
        using var stored = new SKBitmap(300, 200);
        using (var canvas = new SKCanvas(stored))
        {
            using var paint = new SKPaint { Color = SKColors.Red };
            canvas.DrawRect(0, 0, 150, 200, paint);
            paint.Color = SKColors.Blue;
            canvas.DrawRect(150, 0, 150, 200, paint);
        }
        var rotated = ImagingTests.WithExifOrientation(TestImages.Encode(stored, quality: 95), 6);
        var prepared = PhotoPreparer.Prepare(rotated, ImageLimits.Default, "photo");
        using var result = TestImages.Decode(prepared.Jpeg);
        Assert.Equal((200, 200), (result.Width, result.Height));
        Assert.Equal(200, prepared.Side);
        var top = result.GetPixel(100, 20);
        var bottom = result.GetPixel(100, 180);
        Assert.True(top.Red > 180 && top.Blue < 80, $"top is {top}: the photo is not upright");
        Assert.True(bottom.Blue > 180 && bottom.Red < 80, $"bottom is {bottom}");

        var large = PhotoPreparer.Prepare(TestImages.Portrait(3, size: 1000), ImageLimits.Default, "photo");
        Assert.Equal(648, large.Side);
        Assert.True(large.Bytes < PhotoPreparer.MaxUploadBytes);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(large.Jpeg)).ToLowerInvariant(), large.Sha256);

        var png = PhotoPreparer.Prepare(TestImages.Solid(120, 90, SKColors.Teal), ImageLimits.Default, "photo");
        Assert.Equal(0xFF, png.Jpeg[0]); // written as JPEG whatever came in
        Assert.Equal(90, png.Side);

        var tiny = Assert.Throws<ProfileSyncException>(() => PhotoPreparer.Prepare(TestImages.Solid(30, 30, SKColors.Teal), ImageLimits.Default, "photo 'tiny.png'"));
        Assert.Equal(ErrorIds.PhotoSourceUnreadable, tiny.ErrorId);
        Assert.Equal(ErrorCatalog.For(ErrorIds.PhotoSourceUnreadable).RecommendedAction, tiny.Failure.RecommendedAction);
        // Not an image at all: the row's own ErrorId too, not the Exchange photo's PhotoUnreadable (whose advice is to replace the Exchange photo).
        var notes = Assert.Throws<ProfileSyncException>(() => PhotoPreparer.Prepare("Meeting notes, not a photo"u8.ToArray(), ImageLimits.Default, "photo 'notes.jpg'"));
        Assert.Equal(ErrorIds.PhotoSourceUnreadable, notes.ErrorId);
        Assert.DoesNotContain("Exchange photo", notes.Failure.RecommendedAction);
        Assert.Contains("tiny.png", tiny.Message);
    }

    private sealed class Recorder(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public List<(Uri Url, bool Authorized)> Seen { get; } = new();
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Seen) Seen.Add((request.RequestUri!, request.Headers.Authorization is not null));
            return answer(request, cancellationToken);
        }
    }

    private static (PhotoFileOrUrlReader Reader, Recorder Transport, ServiceHttpPipeline Pipeline) Reader(Func<HttpRequestMessage, HttpResponseMessage> answer) =>
        Reader((request, _) => Task.FromResult(answer(request)));

    private static (PhotoFileOrUrlReader Reader, Recorder Transport, ServiceHttpPipeline Pipeline) Reader(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer)
    {
        var transport = new Recorder(answer);
        var pipeline = new ServiceHttpPipeline(ServiceEndpoints.ForTenant("contoso"), new PreAcquiredTokenSource(EmulatorServiceTests.Secure("graph-token")),
            new PreAcquiredTokenSource(EmulatorServiceTests.Secure("sharepoint-token")), new HttpPipelineOptions { Delay = (_, _) => Task.CompletedTask }, transport);
        return (new PhotoFileOrUrlReader(pipeline), transport, pipeline);
    }

    private static HttpResponseMessage Photo() => new(HttpStatusCode.OK) { Content = new ByteArrayContent(TestImages.Portrait(5, size: 100)) };

    private static HttpResponseMessage Redirect(string to) => new(HttpStatusCode.Found) { Headers = { Location = new Uri(to) } };

    [Fact]
    public async Task A_URL_on_a_tenant_host_is_still_fetched_without_any_token()
    {
        var (reader, transport, pipeline) = Reader(_ => Photo());
        using var _ = pipeline;
        await reader.FetchAsync(new Uri("https://contoso.sharepoint.com/sites/hr/photos/adele.jpg"), new UrlFetchPolicy(), CancellationToken.None);
        await reader.FetchAsync(new Uri("https://graph.microsoft.com/v1.0/users/a/photo/$value"), new UrlFetchPolicy(), CancellationToken.None);
        Assert.Equal(2, transport.Seen.Count);
        Assert.All(transport.Seen, s => Assert.False(s.Authorized, $"{s.Url} carried a token"));
    }

    [Fact]
    public async Task Redirects_are_followed_to_other_hosts_only_within_the_rules()
    {
        var (reader, transport, pipeline) = Reader(r => r.RequestUri!.AbsolutePath switch
        {
            "/a" => Redirect("https://cdn.example.net/b"),
            "/b" => Photo(),
            "/to-http" => Redirect("http://cdn.example.net/b"),
            "/to-file" => Redirect("file:///etc/passwd"),
            "/loop" => Redirect("https://hr.example.com/loop"),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
        using var _ = pipeline;
        var bytes = await reader.FetchAsync(new Uri("https://hr.example.com/a"), new UrlFetchPolicy(), CancellationToken.None);
        Assert.True(bytes.Length > 100);
        Assert.Equal("cdn.example.net", transport.Seen[^1].Url.Host);

        async Task<ProfileSyncException> Refused(string url, UrlFetchPolicy? policy = null) =>
            await Assert.ThrowsAsync<ProfileSyncException>(() => reader.FetchAsync(new Uri(url), policy ?? new UrlFetchPolicy(), CancellationToken.None));
        var toHttp = await Refused("https://hr.example.com/to-http");
        Assert.Equal(ErrorIds.PhotoSourceRefused, toHttp.ErrorId);
        Assert.Contains("-AllowHttp", toHttp.Message);
        Assert.Equal(ErrorIds.PhotoSourceRefused, (await Refused("https://hr.example.com/to-file", new UrlFetchPolicy { AllowHttp = true })).ErrorId);
        Assert.Contains("more than 5", (await Refused("https://hr.example.com/loop")).Message);
        Assert.Equal(ErrorIds.PhotoSourceNotFound, (await Refused("https://hr.example.com/nothing")).ErrorId);
        Assert.Equal(ErrorIds.PhotoSourceRefused, (await Refused("http://hr.example.com/b")).ErrorId);
        Assert.DoesNotContain(transport.Seen, s => s.Url.Scheme == "file");
    }

    [Fact]
    public async Task A_source_over_the_cap_is_refused_whether_or_not_it_says_its_length()
    {
        var big = new byte[3 * 1024 * 1024];
        var (reader, _, pipeline) = Reader(r => new HttpResponseMessage(HttpStatusCode.OK)
        {
            // Without a Content-Length (a stream) the cap is enforced while reading.
            Content = r.RequestUri!.AbsolutePath == "/declared" ? new ByteArrayContent(big) : new StreamContent(new MemoryStream(big)),
        });
        using var _ = pipeline;
        var policy = new UrlFetchPolicy { MaxBytes = 1024 * 1024 };
        foreach (var path in new[] { "/declared", "/streamed" })
        {
            var ex = await Assert.ThrowsAsync<ProfileSyncException>(() => reader.FetchAsync(new Uri("https://hr.example.com" + path), policy, CancellationToken.None));
            Assert.Equal(ErrorIds.PhotoSourceTooLarge, ex.ErrorId);
            Assert.Contains("-MaxSourceMB", ex.Failure.RecommendedAction);
        }
    }

    [Fact]
    public async Task A_source_that_does_not_answer_in_time_fails_clearly_and_a_signed_URL_query_is_never_shown()
    {
        // A server that never answers (as a stalled network does): only the reader's own deadline ends the wait.
        var (reader, _, pipeline) = Reader(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return Photo();
        });
        using var _ = pipeline;
        var ex = await Assert.ThrowsAsync<ProfileSyncException>(() =>
            reader.FetchAsync(new Uri("https://hr.example.com/slow.jpg?sig=SECRET123"), new UrlFetchPolicy { Timeout = TimeSpan.FromMilliseconds(300) }, CancellationToken.None));
        Assert.Equal(ErrorIds.PhotoSourceFailed, ex.ErrorId);
        Assert.DoesNotContain("SECRET123", ex.Message);
    }
}
