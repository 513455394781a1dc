using Grpc.Core;
using Grpc.Core.Interceptors;
using Orleans.Runtime;

namespace FleetTwin.Api.Services;

/// <summary>Status codes with messages that name the field (API rule: bad input is never an internal error).</summary>
internal static class ApiErrors
{
    public static RpcException InvalidArgument(string field, string problem) => new(new Status(StatusCode.InvalidArgument, $"{field}: {problem}"));

    public static RpcException NotFound(string field, string problem) => new(new Status(StatusCode.NotFound, $"{field}: {problem}"));

    public static RpcException ResourceExhausted(string field, string problem) => new(new Status(StatusCode.ResourceExhausted, $"{field}: {problem}"));

    /// <summary>The request is fine but the twin lacks what it needs (e.g. a pool's NIC facts); the message says what to ingest.</summary>
    public static RpcException FailedPrecondition(string field, string problem) => new(new Status(StatusCode.FailedPrecondition, $"{field}: {problem}"));

    /// <summary>A name field: present, at most 255 characters, no whitespace or control characters.</summary>
    public static string RequireName(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
            throw InvalidArgument(field, "required");
        CheckName(value, field);
        return value;
    }

    public static void CheckName(string value, string field)
    {
        if (value.Length > 255)
            throw InvalidArgument(field, $"{value.Length} characters, at most 255");
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                throw InvalidArgument(field, $"'{value}' holds whitespace or a control character");
        }
    }
}

/// <summary>
/// Maps what the twin throws to gRPC status codes: a deadline that passed is DEADLINE_EXCEEDED (the grain calls are
/// cancelled with the call), a twin that cannot be reached is UNAVAILABLE. Anything else is a bug and stays INTERNAL.
/// </summary>
internal sealed class TwinErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception error) when (Map(error, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception error) when (Map(error, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception error) when (Map(error, context) is { } mapped)
        {
            throw mapped;
        }
    }

    private static RpcException? Map(Exception error, ServerCallContext context) => error switch
    {
        RpcException => null,
        OperationCanceledException when context.Deadline <= DateTime.UtcNow =>
            new RpcException(new Status(StatusCode.DeadlineExceeded, $"deadline passed before the twin answered ({context.Method})")),
        OperationCanceledException => new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled")),
        TimeoutException => new RpcException(new Status(StatusCode.DeadlineExceeded, $"the twin did not answer in time: {error.Message}")),
        SiloUnavailableException or OrleansException => new RpcException(new Status(StatusCode.Unavailable, $"the twin is unavailable: {error.Message}")),
        _ => null,
    };
}
