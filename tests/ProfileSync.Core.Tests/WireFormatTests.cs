using ProfileSync.Core.SharePoint;

namespace ProfileSync.Core.Tests;

public class WireFormatTests
{
    private const string NoMetadata = """
    {"AccountName":"i:0#.f|membership|adele@contoso.com","DisplayName":"Adele","PictureUrl":"https://contoso-my.sharepoint.com:443/User%20Photos/Profile%20Pictures/adele_contoso_com_MThumb.jpg?t=63799442436",
     "UserProfileProperties":[{"Key":"PictureURL","Value":"https://contoso-my.sharepoint.com:443/User%20Photos/Profile%20Pictures/adele_contoso_com_MThumb.jpg","ValueType":"Edm.String"},
       {"Key":"SPS-PicturePlaceholderState","Value":"0","ValueType":"Edm.String"},{"Key":"SPS-PictureTimestamp","Value":"63799442436","ValueType":"Edm.String"},
       {"Key":"SPS-PictureExchangeSyncState","Value":"1","ValueType":"Edm.String"},{"Key":"msOnline-ObjectId","Value":"78ccf530-bbf0-47e4-aae6-da5f8c6fb142","ValueType":"Edm.String"}]}
    """;

    private const string Verbose = """
    {"d":{"__metadata":{"id":"x","uri":"x","type":"SP.UserProfiles.PersonProperties"},"AccountName":"i:0#.f|membership|adele@contoso.com","PictureUrl":null,
      "UserProfileProperties":{"results":[{"__metadata":{"type":"SP.KeyValue"},"Key":"PictureURL","Value":"https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/78ccf530-bbf0-47e4-aae6-da5f8c6fb142_MThumb.jpg","ValueType":"Edm.String"},
      {"__metadata":{"type":"SP.KeyValue"},"Key":"SPS-PicturePlaceholderState","Value":"1","ValueType":"Edm.String"}]}}}
    """;

    [Fact]
    public void Reads_the_nometadata_shape()
    {
        var p = SharePointWireFormat.ReadProfile(NoMetadata)!;
        Assert.Equal("i:0#.f|membership|adele@contoso.com", p.AccountName);
        Assert.Equal("https://contoso-my.sharepoint.com:443/User%20Photos/Profile%20Pictures/adele_contoso_com_MThumb.jpg", p.PictureUrl);
        Assert.Equal("0", p.PlaceholderState);
        Assert.Equal("63799442436", p.PictureTimestamp);
        Assert.Equal("1", p.ExchangeSyncState);
        Assert.Equal("78ccf530-bbf0-47e4-aae6-da5f8c6fb142", p.ObjectId);
        Assert.False(p.ShowsPlaceholder);
    }

    [Fact]
    public void Reads_the_verbose_shape_and_decides_from_the_properties_not_the_top_level_url()
    {
        var p = SharePointWireFormat.ReadProfile(Verbose)!;
        Assert.Equal("https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/78ccf530-bbf0-47e4-aae6-da5f8c6fb142_MThumb.jpg", p.PictureUrl);
        Assert.True(p.ShowsPlaceholder);
        Assert.Null(p.ObjectId);
    }

    [Theory]
    [InlineData("{\"odata.null\":true}")]
    [InlineData("{\"AccountName\":null,\"UserProfileProperties\":[]}")]
    [InlineData("{\"d\":{\"__metadata\":{\"type\":\"SP.UserProfiles.PersonProperties\"},\"AccountName\":null,\"UserProfileProperties\":{\"results\":[]}}}")]
    [InlineData("{\"d\":null}")]
    [InlineData("")]
    public void Every_no_profile_answer_reads_as_null(string json) => Assert.Null(SharePointWireFormat.ReadProfile(json));

    [Fact]
    public void Falls_back_to_the_top_level_PictureUrl_without_its_query()
    {
        var p = SharePointWireFormat.ReadProfile("{\"AccountName\":\"a\",\"PictureUrl\":\"https://h/x_MThumb.jpg?t=1\",\"UserProfileProperties\":[]}")!;
        Assert.Equal("https://h/x_MThumb.jpg", p.PictureUrl);
    }

    [Fact]
    public void Reads_folders_in_both_shapes()
    {
        var flat = SharePointWireFormat.ReadFolders("{\"value\":[{\"ItemCount\":3,\"Name\":\"Profilbilder\",\"ServerRelativeUrl\":\"/User Photos/Profilbilder\"},{\"ItemCount\":0,\"Name\":\"Forms\",\"ServerRelativeUrl\":\"/User Photos/Forms\"}]}");
        var verbose = SharePointWireFormat.ReadFolders("{\"d\":{\"results\":[{\"__metadata\":{\"type\":\"SP.Folder\"},\"ItemCount\":3,\"Name\":\"Profilbilder\",\"ServerRelativeUrl\":\"/User Photos/Profilbilder\"}]}}");
        Assert.Equal(2, flat.Count);
        Assert.Equal(new PhotoFolder("Profilbilder", "/User Photos/Profilbilder", 3), flat[0]);
        Assert.Equal(flat[0], Assert.Single(verbose));
    }

    [Theory]
    [InlineData("{\"odata.error\":{\"code\":\"-2147024894, System.IO.FileNotFoundException\",\"message\":{\"lang\":\"en-US\",\"value\":\"File Not Found.\"}}}")]
    [InlineData("{\"error\":{\"code\":\"-2147024894, System.IO.FileNotFoundException\",\"message\":{\"lang\":\"en-US\",\"value\":\"File Not Found.\"}}}")]
    public void Reads_errors_in_both_shapes(string body)
    {
        var (code, message) = SharePointWireFormat.ReadError(body);
        Assert.Equal("-2147024894, System.IO.FileNotFoundException", code);
        Assert.Equal("File Not Found.", message);
    }

    [Fact]
    public void A_body_that_is_not_an_error_reads_as_none() =>
        Assert.Equal((null, null), SharePointWireFormat.ReadError("<html>503</html>"));
}
