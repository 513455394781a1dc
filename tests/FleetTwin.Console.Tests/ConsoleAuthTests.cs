using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FleetTwin.Deployment.Tests;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Console.Tests;

/// <summary>
/// With authentication on (a JWT signing key), the console is a door like the others: its pages, assets, /api/ and the
/// live feed need the <c>read</c> role, a what-if the <c>plan</c> role, the Orleans Dashboard <c>admin</c>.
/// </summary>
public sealed class ConsoleAuthTests
{
    [Fact]
    public async Task Console_needs_read_what_if_needs_plan_and_the_Orleans_Dashboard_needs_admin()
    {
        using var credentials = new TestCredentials();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>
        {
            ["FleetTwin__Jwt__SigningKeyPath"] = credentials.JwtKeyPath,
            ["FleetTwin__Jwt__Issuer"] = TestCredentials.Issuer,
            ["FleetTwin__Jwt__Audience"] = TestCredentials.Audience,
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = $"http://127.0.0.1:{silo.Http}";
        var read = credentials.Token(TimeSpan.FromMinutes(10), "read");
        var plan = credentials.Token(TimeSpan.FromMinutes(10), "plan");
        var admin = credentials.Token(TimeSpan.FromMinutes(10), "admin");

        async Task<HttpStatusCode> Get(string path, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root + path));
            if (token is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return response.StatusCode;
        }

        async Task<HttpStatusCode> WhatIf(string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(root + "/api/pools/no-such-pool/whatif"))
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            };
            if (token is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        foreach (var path in new[] { "/", "/alerts", "/console/app.js", "/api/fleet", "/api/alerts", "/api/events" })
        {
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await Get(path, null)));
            Assert.Equal((path, HttpStatusCode.OK), (path, await Get(path, read)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await Get(path, plan))); // plan alone does not read
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await WhatIf(null));
        Assert.Equal(HttpStatusCode.Forbidden, await WhatIf(read));
        Assert.Equal(HttpStatusCode.NotFound, await WhatIf(plan)); // past authorization: the pool is unknown
        Assert.Equal(HttpStatusCode.Unauthorized, await Get("/orleans/", null));
        Assert.Equal(HttpStatusCode.Forbidden, await Get("/orleans/", read));
        Assert.Equal(HttpStatusCode.OK, await Get("/orleans/", admin));
    }
}
