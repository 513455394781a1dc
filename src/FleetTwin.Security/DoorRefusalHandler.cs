using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace FleetTwin.Security;

/// <summary>
/// Answers a refused request and counts it. HTTP: 401 (with <c>WWW-Authenticate: Bearer</c>) or 403. gRPC: a
/// trailers-only response with status UNAUTHENTICATED (16) or PERMISSION_DENIED (7), as gRPC clients expect (the
/// bare HTTP 401 the default handler writes reaches them only as a transport error).
/// </summary>
internal sealed class DoorRefusalHandler(DoorRefusals refusals) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Challenged && !authorizeResult.Forbidden)
            return _default.HandleAsync(next, context, policy, authorizeResult);

        var grpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
        var door = context.GetEndpoint()?.Metadata.GetMetadata<DoorName>()?.Name ?? (grpc ? DoorName.Grpc : DoorName.Http);
        var reason = authorizeResult.Forbidden ? RefusalReason.WrongRole : context.Items[DoorSecurity.RefusalItem] as string ?? RefusalReason.NoCredentials;
        refusals.Count(door, reason, context.Connection.RemoteIpAddress);

        var unauthenticated = !authorizeResult.Forbidden;
        if (grpc)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = unauthenticated ? "16" : "7";
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(unauthenticated ? $"unauthenticated: {reason}" : $"permission denied: needs role {RoleOf(context)}");
            return Task.CompletedTask;
        }
        context.Response.StatusCode = unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
        if (unauthenticated)
            context.Response.Headers.WWWAuthenticate = reason == RefusalReason.NoCredentials ? "Bearer" : $"Bearer error=\"invalid_token\", error_description=\"{reason}\"";
        return context.Response.WriteAsync(unauthenticated ? $"unauthenticated: {reason}\n" : $"forbidden: needs role {RoleOf(context)}\n");
    }

    private static string RoleOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null) ?? "?";
}
